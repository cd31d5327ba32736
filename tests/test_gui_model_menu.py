"""The Model menu: the starter entry is disabled with a reason when no starter model is installed; opening a model
file makes it the project's frame model and the shown unlabelled frame gets its prediction; the model starts when
the project opens (before any frame asks) and the status bar says when it is ready."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from core.project.location import PROJECT_SUBFOLDER  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.serving import frame_model, model_process  # noqa: E402
from gui import model_menu  # noqa: E402
from tests.conftest import wait_idle, write_frames  # noqa: E402


@pytest.fixture
def model_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, tuple[int, int]]]]:
    """The frame model answers at once from a thread of this process; the (model, image shape) of each call."""
    calls: list[tuple[str, tuple[int, int]]] = []

    def predict(model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
        calls.append((Path(model_path).name, image_u8.shape))
        probability = np.zeros(image_u8.shape, np.float32)
        probability[20:60, 30:90] = 0.9
        return probability, "epoch 2", None, None

    monkeypatch.setattr(frame_model, "spawn_pool", lambda: ThreadPoolExecutor(max_workers=1))
    monkeypatch.setattr(model_process, "predict", predict)
    yield calls


def test_without_a_starter_model_its_entry_is_disabled_and_says_why(qtbot, tmp_path: Path, make_window,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_menu, "starter_model", lambda: None)
    window = make_window()
    menu = model_menu.ModelMenu(window.menuBar().addMenu("Test"), [], window)
    assert menu.starter is None
    write_frames(tmp_path / "frames", 1, corrupt=False)
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    menu.project_opened(window.session, window.training)
    assert not menu.starter_action.isEnabled() and menu.starter_action.toolTip() == model_menu.NO_STARTER
    assert window.model_menu.open_action.isEnabled()


def test_a_starter_model_is_found_in_resources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "notes.txt").write_text("not a model")
    monkeypatch.setattr(model_menu.resources, "files", lambda package: tmp_path)
    assert model_menu.starter_model() is None
    (tmp_path / "models" / "starter_frame.safetensors").write_bytes(b"weights")
    assert model_menu.starter_model() == tmp_path / "models" / "starter_frame.safetensors"


def test_opening_a_model_file_predicts_the_shown_frame_and_the_status_bar_says_it_is_ready(
        qtbot, tmp_path: Path, make_window, model_calls: list) -> None:
    folder = tmp_path / "frames"
    write_frames(folder, 2, corrupt=False)
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    assert window.model_label.text() == "no frame model" and model_calls == []
    model = tmp_path / "chosen.safetensors"
    model.write_bytes(b"read by the stand-in only")
    window.model_menu.use_frame_model(model)
    c = window.controller
    qtbot.waitUntil(lambda: any(o.mask_kind == "predicted" for o in c.display()), timeout=15000)
    qtbot.waitUntil(lambda: window.model_label.text() == "frame model chosen.safetensors: ready", timeout=15000)
    assert window.session.store.path_setting(frame_model.MODEL_SETTING) == model

    # reopening starts the model before any frame asks for it: its first call is the blank warm-up frame
    window.close()
    model_calls.clear()
    with ProjectStore.open(folder / PROJECT_SUBFOLDER) as store:
        assert store.prediction(c.current_frame_id) is not None
    reopened = make_window()
    assert reopened.open_path(folder)
    wait_idle(qtbot, reopened)
    assert model_calls[0] == ("chosen.safetensors", (frame_model.WARM_UP_PX, frame_model.WARM_UP_PX))
    qtbot.waitUntil(lambda: reopened.model_label.text() == "frame model chosen.safetensors: ready", timeout=15000)
