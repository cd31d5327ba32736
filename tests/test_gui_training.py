"""Background training from the GUI (gui/training_controller.py, gui/training_dock.py): the Train button, live
progress in the dock, a new model version that becomes the one in use, Stop keeping the best so far, a killed
trainer reported without harm, automatic training after N labelled frames, closing during a run, and the
work (store writes, engine edits, frame loads) staying off the GUI thread while a model trains."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import signal  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import pytest  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from core.annotation.caliper_simulation import calipers_from_label_map  # noqa: E402
from core.learning.job_process import JobState  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402
from gui.training_controller import OPTIONS_SETTING  # noqa: E402
from gui.training_options import TrainingOptions  # noqa: E402
from tests.conftest import (  # noqa: E402
    StallMeter,
    WorkThreads,
    place_calipers,
    press_key,
    wait_idle,
)

SIZE = (96, 112)
N_FRAMES = 8
N_LABELLED = 6
TINY = TrainingOptions(minutes=None, epochs=2, preset="tiny", resolution=64)
LONG = TrainingOptions(minutes=None, epochs=500, preset="tiny", resolution=64)


def make_project(tmp_path: Path, labelled: int = N_LABELLED, settings: dict | None = None) -> Path:
    """A project of synthetic frames, the first `labelled` with the calipers of their nodule."""
    frames = tmp_path / "frames"
    frames.mkdir()
    for seed in range(N_FRAMES):
        cv2.imwrite(str(frames / f"f{seed}.png"), make_frame(seed, size=SIZE).image)
    folder = tmp_path / "project"
    store = ProjectStore.create(folder)
    try:
        records = store.add_frames(sorted(frames.glob("*.png")))
        for seed, record in enumerate(records[:labelled]):
            store.set_calipers(record.id, 0, calipers_from_label_map(make_frame(seed, size=SIZE).labels)[0])
        for key, value in (settings or {}).items():
            store.set_setting(key, value)
    finally:
        store.close()
    return folder


def open_window(qtbot, make_window, folder: Path, options: TrainingOptions):
    window = make_window()
    window.training_options = TrainingOptions(**vars(options))
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.training is not None and window.training.idle, timeout=10000)
    return window


def wait_outcome(qtbot, window, count: int = 1, timeout_ms: int = 90000):
    qtbot.waitUntil(lambda: len(window.training.outcomes) >= count, timeout=timeout_ms)
    return window.training.outcomes[count - 1]


def test_train_button_shows_progress_and_the_new_version_goes_live(qtbot, tmp_path, make_window,
                                                                   work_threads: WorkThreads,
                                                                   record_property) -> None:
    window = open_window(qtbot, make_window, make_project(tmp_path), TINY)
    work_threads.clear()
    dock, store = window.training_dock, window.session.store
    assert dock.state == "idle" and dock.version_names() == []
    unlabelled = [r.id for r in store.frames()][N_LABELLED:]

    meter = StallMeter()
    meter.start()
    qtbot.mouseClick(dock.train_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: dock.state == "training", timeout=10000)
    assert not dock.train_button.isEnabled() and dock.stop_button.isEnabled()
    window.training.train()  # never two at once
    for _ in range(3):  # the app stays usable while it trains
        with qtbot.waitSignal(window.frame_displayed, timeout=15000):
            press_key(qtbot, window, QtCore.Qt.Key_N)
    outcome = wait_outcome(qtbot, window)
    meter.stop()

    assert outcome.exit.state == JobState.FINISHED, outcome.exit.reason
    assert len(window.training.outcomes) == 1
    assert dock.state == "finished" and dock.plotted_epochs == 2
    assert "Epoch 2 of 2" in dock.progress_label.text() or "in use" in dock.progress_label.text()
    assert "held-out" in dock.data_label.text()
    qtbot.waitUntil(lambda: dock.version_names() == ["v0001"], timeout=10000)
    # it goes live by itself only when clearly better than no model on the held-out frames; 2 epochs of a tiny
    # network need not be, and then the user pins it
    assert outcome.switched == outcome.version.beats_baseline()
    if outcome.switched:
        assert dock.version_use("v0001") == "in use"
    else:
        dock.versions.topLevelItem(0).setSelected(True)
        qtbot.mouseClick(dock.pin_button, QtCore.Qt.LeftButton)
        qtbot.waitUntil(lambda: dock.version_use("v0001") == "in use · pinned", timeout=10000)
    qtbot.waitUntil(lambda: store.get_setting("model_path") == "models/v0001/model.safetensors", timeout=10000)

    # the new model predicts every unlabelled frame in the background; the suggestion ranks by them
    qtbot.waitUntil(lambda: all(store.prediction(f) is not None for f in unlabelled), timeout=60000)
    qtbot.waitUntil(lambda: window.training.idle, timeout=30000)
    with qtbot.waitSignal(window.frame_displayed, timeout=15000):
        press_key(qtbot, window, QtCore.Qt.Key_M)
    assert window.controller.current_frame_id in unlabelled

    record_property("max_event_loop_stall_ms_during_training", round(meter.worst * 1000, 1))
    print(f"\nmax event-loop stall during training {meter.worst * 1000:.1f} ms over {meter.ticks} ticks")
    assert not work_threads.on_gui_thread(), f"heavy work on the GUI thread: {work_threads.on_gui_thread()}"
    window.training_dock_widget.raise_()  # the tab beside "Nodules and display"
    QtCore.QCoreApplication.processEvents()
    shot = tmp_path / "training.png"
    assert window.grab().save(str(shot)) and shot.stat().st_size > 0


def test_stop_ends_early_and_keeps_the_best_model(qtbot, tmp_path, make_window) -> None:
    window = open_window(qtbot, make_window, make_project(tmp_path), LONG)
    dock = window.training_dock
    qtbot.mouseClick(dock.train_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: dock.plotted_epochs >= 1, timeout=60000)
    qtbot.mouseClick(dock.stop_button, QtCore.Qt.LeftButton)
    outcome = wait_outcome(qtbot, window)
    assert outcome.exit.state == JobState.STOPPED, outcome.exit.reason
    assert outcome.version is not None
    assert dock.state == "stopped"
    qtbot.waitUntil(lambda: dock.version_names() == ["v0001"], timeout=10000)

    # pin and unpin from the version list
    dock.versions.topLevelItem(0).setSelected(True)
    qtbot.mouseClick(dock.pin_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: dock.version_use("v0001") == "in use · pinned", timeout=10000)
    qtbot.mouseClick(dock.unpin_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: dock.version_use("v0001") == "in use", timeout=10000)
    qtbot.waitUntil(lambda: window.training.idle, timeout=60000)


def test_a_killed_trainer_shows_why_and_the_app_keeps_working(qtbot, tmp_path, make_window) -> None:
    window = open_window(qtbot, make_window, make_project(tmp_path), LONG)
    dock, store = window.training_dock, window.session.store
    qtbot.mouseClick(dock.train_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: dock.state == "training" and window.training.trainer.pid is not None, timeout=10000)
    os.kill(window.training.trainer.pid, signal.SIGKILL)
    outcome = wait_outcome(qtbot, window, timeout_ms=30000)
    assert outcome.exit.state == JobState.FAILED
    assert dock.state == "failed" and not dock.reason_label.isHidden()
    assert "SIGKILL" in dock.reason_label.text()
    assert dock.train_button.isEnabled() and dock.version_names() == []
    assert store.get_setting("model_path") is None

    # still annotating: go to an unlabelled frame and measure its nodule
    target = [r.id for r in store.frames()][N_LABELLED]
    window.show_frame(target)
    wait_idle(qtbot, window)
    calipers = calipers_from_label_map(make_frame(N_LABELLED, size=SIZE).labels)[0]
    place_calipers(qtbot, window, calipers)
    qtbot.waitUntil(lambda: len(store.calipers(target)) == 1, timeout=10000)


def test_labelled_frames_start_a_training_and_closing_cancels_it(qtbot, tmp_path, make_window) -> None:
    folder = make_project(tmp_path, settings={"trainer.auto_after_frames": 1, OPTIONS_SETTING: vars(LONG)})
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.training.idle and window.training_dock.auto_label.text() != "", timeout=10000)
    assert window.training.options.epochs == LONG.epochs  # read from the project's setting
    store = window.session.store
    target = [r.id for r in store.frames()][N_LABELLED]
    window.show_frame(target)
    wait_idle(qtbot, window)
    place_calipers(qtbot, window, calipers_from_label_map(make_frame(N_LABELLED, size=SIZE).labels)[0])
    qtbot.waitUntil(lambda: window.training_dock.state == "training", timeout=15000)
    qtbot.waitUntil(lambda: window.training.trainer.pid is not None, timeout=10000)
    trainer = window.training.trainer
    pid = trainer.pid
    started = time.perf_counter()
    window.close()
    closing_s = time.perf_counter() - started
    print(f"\nclosing during training took {closing_s:.2f} s")  # a figure, not asserted: it depends on the machine
    assert trainer.wait(10) and trainer.state == JobState.CANCELLED
    with pytest.raises(ProcessLookupError):  # the child is gone (and reaped) once the run reports cancelled
        os.kill(pid, 0)
