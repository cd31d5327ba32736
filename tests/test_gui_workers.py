"""Workers by job: a frame loads, and an edit is written, while the frame model is still starting (its worker
held on a gate); the status bar says the model is starting; and no store write ever runs on the GUI thread."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from core.project import db as project_db  # noqa: E402
from core.project.display_status import DisplayStatus  # noqa: E402
from core.project.location import PROJECT_SUBFOLDER  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.serving import frame_model, model_process  # noqa: E402
from gui.frame_predictions import MODEL_STARTING  # noqa: E402
from tests.conftest import place_calipers, press_key, truth, wait_idle, write_frames  # noqa: E402

GATE_TIMEOUT_S = 60.0  # a gate never opened fails the test instead of hanging it


class ModelGate:
    """Stands in for the model process: each prediction waits until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.asked = threading.Event()

    def predict(self, model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
        self.asked.set()
        if not self.gate.wait(GATE_TIMEOUT_S):
            raise TimeoutError("the test never opened the model gate")
        return np.zeros(image_u8.shape, np.float32), "epoch 1", None, None


@pytest.fixture
def model_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelGate]:
    """The frame model answers from a thread of this process (not a spawned one) through ModelGate."""
    gate = ModelGate()
    monkeypatch.setattr(frame_model, "spawn_pool", lambda: ThreadPoolExecutor(max_workers=1))
    monkeypatch.setattr(model_process, "predict", gate.predict)
    yield gate
    gate.gate.set()  # never leave a worker waiting


@pytest.fixture
def write_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread of every store write transaction from now on."""
    seen: list[str] = []
    original = project_db.Database.write

    @contextmanager
    def recorded(self: project_db.Database) -> Iterator[object]:
        seen.append(threading.current_thread().name)
        with original(self) as conn:
            yield conn

    monkeypatch.setattr(project_db.Database, "write", recorded)
    return seen


def _folder_with_a_model(tmp_path: Path, frames: int) -> Path:
    folder = tmp_path / "frames"
    write_frames(folder, frames, corrupt=False)
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"weights are never read: the gate answers")
    with ProjectStore.create(folder / PROJECT_SUBFOLDER) as store:
        store.set_setting(frame_model.MODEL_SETTING, str(model))
    return folder


def test_frames_load_and_edits_are_written_while_the_model_is_starting(qtbot, tmp_path: Path, make_window,
                                                                       model_gate: ModelGate) -> None:
    folder = _folder_with_a_model(tmp_path, 2)
    window = make_window()
    assert window.open_path(folder)
    c = window.controller
    qtbot.waitUntil(lambda: c.current is not None and model_gate.asked.is_set(), timeout=15000)
    assert not model_gate.gate.is_set()
    assert window.model_label.text() == MODEL_STARTING
    first = c.current_frame_id

    second = next(f for f in window.frame_list.frame_ids() if f != first)
    window.show_frame(second)  # loads although the model worker is held
    qtbot.waitUntil(lambda: c.current is not None and c.current_frame_id == second, timeout=15000)
    assert not model_gate.gate.is_set()

    _, calipers = truth(1)
    for x, y in calipers.as_array():
        c.place_caliper(float(x), float(y))
    store = window.session.store
    qtbot.waitUntil(lambda: bool(store.calipers(second)) and bool(store.masks(second)), timeout=15000)
    assert not model_gate.gate.is_set()  # written while the model was still held
    assert window.model_label.text() == MODEL_STARTING

    model_gate.gate.set()
    wait_idle(qtbot, window, timeout_ms=30000)
    qtbot.waitUntil(lambda: window.model_label.text() == "frame model model.safetensors: ready", timeout=5000)
    assert store.prediction(first) is not None  # the first frame's prediction, stored once the model answered
    assert window.frame_list.status(first) == DisplayStatus.PREDICTED
    assert window.frame_list.status(second) == DisplayStatus.CALIPERS


def test_no_store_write_runs_on_the_gui_thread(qtbot, tmp_path: Path, make_window, model_gate: ModelGate,
                                               write_threads: list[str]) -> None:
    model_gate.gate.set()
    folder = _folder_with_a_model(tmp_path, 2)
    write_threads.clear()  # the test's own set-up wrote on this thread
    window = make_window()
    assert window.open_path(folder)  # opening writes the folder of frames into the project
    wait_idle(qtbot, window, timeout_ms=30000)
    place_calipers(qtbot, window, truth(0)[1])
    press_key(qtbot, window, QtCore.Qt.Key_Return)  # accept
    wait_idle(qtbot, window)
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    press_key(qtbot, window, QtCore.Qt.Key_Y, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    window.use_click_model(tmp_path / "no-such-click-model.safetensors")
    wait_idle(qtbot, window)
    window.close()  # remembers the shown frame
    assert len(write_threads) >= 8, write_threads  # the points, masks, prediction, accept, undo, redo, settings
    gui_thread = threading.main_thread().name
    assert gui_thread not in write_threads, f"store writes on the GUI thread: {write_threads}"


def test_a_new_project_is_created_off_the_gui_thread(qtbot, tmp_path: Path, make_window,
                                                     write_threads: list[str]) -> None:
    write_frames(tmp_path / "frames", 1, corrupt=False)
    window = make_window()
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    assert write_threads and threading.main_thread().name not in write_threads, write_threads
