"""The app's model process: started with the window, before any project opens (torch imports over there while the
user picks a folder), used by the first project's predictions, kept when projects are switched, ended with the
window. A thread pool stands in for the process; events with timeouts, no sleeps."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from core.project.location import open_project, plan_open  # noqa: E402
from core.serving import frame_model, model_process  # noqa: E402
from gui.app import build_window  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from tests.conftest import iou, truth, wait_idle, write_frames  # noqa: E402

WAIT_S = 30.0


def _project_with_model(folder: Path, model: Path) -> None:
    write_frames(folder, 2, corrupt=False)
    store = open_project(plan_open(folder))
    store.set_setting(frame_model.MODEL_SETTING, str(model))
    store.close()


def test_the_model_process_starts_with_the_window_and_serves_every_project(
        qtbot, app_dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pools: list[ThreadPoolExecutor] = []
    preloaded = threading.Event()
    workers: list[str] = []

    def new_pool() -> ThreadPoolExecutor:
        pools.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-process"))
        return pools[-1]

    def preload() -> int:
        workers.append(threading.current_thread().name)
        preloaded.set()
        return 1

    def predict(model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
        workers.append(threading.current_thread().name)
        probability = np.zeros(image_u8.shape, np.float32)
        probability[20:60, 30:90] = 0.9
        return probability, "epoch 2", None, None

    monkeypatch.setattr(frame_model, "spawn_pool", new_pool)
    monkeypatch.setattr(model_process, "preload", preload)
    monkeypatch.setattr(model_process, "predict", predict)
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"read by the stand-in only")
    first, second = tmp_path / "first", tmp_path / "second"
    _project_with_model(first, model)
    _project_with_model(second, model)

    window = build_window()
    qtbot.addWidget(window)
    assert window.session is None and preloaded.wait(WAIT_S)  # started before any project opened
    assert window.model_process.preloaded is not None and window.model_process.preloaded.result(WAIT_S) == 1
    assert len(pools) == 1 and window.model_process.warm

    for folder in (first, second):
        assert window.open_path(folder)
        assert not window.session.model.starting  # no "Model starting…": torch is already in
        wait_idle(qtbot, window)
        c = window.controller
        qtbot.waitUntil(lambda c=c: any(o.mask_kind == "predicted" for o in c.display()), timeout=15000)
        assert not window.model_process.closed  # closing the first project kept it
    assert len(pools) == 1 and len(set(workers)) == 1 and len(workers) >= 3  # one worker: preload + both
    window.close()
    assert window.model_process.closed


def _window_answered_by(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, predict: Callable) -> MainWindow:
    """A window on a two-frame project whose frame model is `predict` (model_process.predict's stand-in)."""
    monkeypatch.setattr(frame_model, "spawn_pool", lambda: ThreadPoolExecutor(max_workers=1))
    monkeypatch.setattr(model_process, "preload", lambda: 1)
    monkeypatch.setattr(model_process, "predict", predict)
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"read by the stand-in only")
    _project_with_model(tmp_path / "project", model)
    window = build_window()
    qtbot.addWidget(window)
    assert window.open_path(tmp_path / "project")
    wait_idle(qtbot, window)
    return window


def test_the_status_line_says_when_the_model_found_no_nodule_on_the_shown_frame(
        qtbot, app_dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def predict(model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
        return np.zeros(image_u8.shape, np.float32), "epoch 2", 0.07, None  # the gate blanked it

    window = _window_answered_by(qtbot, tmp_path, monkeypatch, predict)
    expected = "Model: no nodule on this frame (presence gate: 7% chance of a nodule)"
    qtbot.waitUntil(lambda: expected in window.model_label.text(), timeout=15000)
    assert "Propose" not in window.model_label.text()  # the segmenter saw nothing either
    window.controller.add_click(30.0, 30.0, True)  # a human annotates: the model's verdict no longer applies
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: "no nodule" not in window.model_label.text(), timeout=15000)
    window.close()


def test_propose_outlines_the_nodule_the_presence_gate_blanked(
        qtbot, app_dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nodule, _ = truth(0)
    asked: list[tuple[int, int]] = []

    def predict(model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
        asked.append(image_u8.shape)
        return np.zeros(image_u8.shape, np.float32), "epoch 2", 0.3, nodule.astype(np.float32) * 0.9

    window = _window_answered_by(qtbot, tmp_path, monkeypatch, predict)
    frame_id = window.controller.current.frame_id
    assert window.frame_list.frame_ids()[0] == frame_id  # the first frame, whose nodule is `nodule`
    hint = "(presence gate: 30% chance of a nodule) · its segmenter saw one: Propose (G) outlines it"
    qtbot.waitUntil(lambda: hint in window.model_label.text(), timeout=15000)
    assert not any(o.mask is not None and o.mask.any() for o in window.controller.display())  # nothing shown
    frames_asked = len(asked)
    window.actions["propose"].trigger()
    store = window.session.store
    qtbot.waitUntil(lambda: 0 in store.masks(frame_id), timeout=15000)
    wait_idle(qtbot, window)
    proposal = store.mask(frame_id, 0)
    assert proposal is not None and iou(proposal, nodule) > 0.9 and not store.masks(frame_id)[0].accepted
    assert len(asked) == frames_asked  # the map the gate withheld came with the frame's prediction
    assert "no nodule" not in window.model_label.text()
    window.close()
