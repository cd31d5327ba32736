"""The GUI thread never does the engine's, the model's or the store's work: a user annotates 20 DDTI-sized frames
in a row (load, four calipers, a background click, accept, next frame), clicking every 15 ms, far faster than any
hand, and every frame load, engine edit and store write runs on a worker. The event-loop stall this gives is a
figure of the machine, measured by `bench/gui_stall.py`, not asserted here."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time  # noqa: E402
from pathlib import Path  # noqa: E402

from PyQt5 import QtCore  # noqa: E402

from core.project.display_status import DisplayStatus  # noqa: E402
from tests.conftest import (  # noqa: E402
    StallMeter,
    WorkThreads,
    click_image,
    press_key,
    truth,
    wait_idle,
    write_frames,
)

DDTI_SIZE = (360, 560)
N_FRAMES = 20


def test_gui_thread_does_no_heavy_work_while_annotating_20_frames(qtbot, tmp_path: Path, make_window,
                                                                 work_threads: WorkThreads,
                                                                 record_property) -> None:
    folder = tmp_path / "frames"
    write_frames(folder, N_FRAMES, corrupt=False, size=DDTI_SIZE)
    calipers = [truth(i, DDTI_SIZE)[1] for i in range(N_FRAMES)]
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    order = window.frame_list.frame_ids()
    work_threads.clear()  # opening the project (and loading its first frame) happened before this point

    meter = StallMeter()
    meter.start()
    started = time.perf_counter()
    for i in range(N_FRAMES):
        qtbot.waitUntil(lambda i=i: window.controller.current is not None
                        and window.controller.current_frame_id == order[i], timeout=10000)
        for x, y in calipers[i].as_array():
            click_image(qtbot, window, x, y)
            qtbot.wait(15)
        cx, cy = calipers[i].as_array().mean(axis=0)
        click_image(qtbot, window, cx, cy, QtCore.Qt.RightButton)
        qtbot.wait(15)
        press_key(qtbot, window, QtCore.Qt.Key_Return)
        qtbot.wait(15)
        press_key(qtbot, window, QtCore.Qt.Key_N)
        qtbot.wait(15)
    wait_idle(qtbot, window)
    meter.stop()
    elapsed = time.perf_counter() - started

    record_property("max_event_loop_stall_ms", round(meter.worst * 1000, 1))
    record_property("frames_per_s", round(N_FRAMES / elapsed, 2))
    print(f"\nmax event-loop stall {meter.worst * 1000:.1f} ms over {elapsed:.1f} s, {meter.ticks} ticks, "
          f"last click-to-mask {window.last_click_to_mask * 1000:.0f} ms")
    assert all(len(names) >= N_FRAMES - 1 for names in work_threads.seen.values()), {
        job: len(names) for job, names in work_threads.seen.items()}
    assert not work_threads.on_gui_thread(), f"heavy work on the GUI thread: {work_threads.on_gui_thread()}"
    statuses = [window.frame_list.status(f) for f in order]
    assert statuses == [DisplayStatus.ACCEPTED] * N_FRAMES
    store = window.session.store
    assert all(len(store.calipers(f)) == 1 and store.mask(f) is not None for f in order)
