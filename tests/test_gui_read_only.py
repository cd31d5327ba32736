"""Issue 15, finding 3 (the app half): a project that cannot be written opens read-only, with the amber bar saying
why; every edit is refused up front with a status-bar message (no error box, nothing written, not even in the
background), export works, and "Save a copy…" makes a writable copy. A full disk and a damaged database while the
app runs get their own message; for a damaged database the box offers the copy."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sqlite3  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from core.errors import ProjectCorrupt, ProjectDiskFull, ProjectPermissionDenied  # noqa: E402
from core.project.location import PROJECT_SUBFOLDER  # noqa: E402
from core.project.records import MaskProvenance  # noqa: E402
from core.project.store import DB_NAME, ProjectStore  # noqa: E402
from gui.errors import ErrorReporter  # noqa: E402
from gui.read_only_banner import REFUSED  # noqa: E402
from tests.conftest import click_image, press_key, truth, wait_idle, write_frames  # noqa: E402

_open = ProjectStore.open


def _refuse_writable_open(folder: str | Path, read_only: bool = False) -> ProjectStore:
    """ProjectStore.open as on a folder the user may read but not write (tests run as root: chmod stops nothing)."""
    if not read_only:
        raise ProjectPermissionDenied(f"{folder}: permission denied (test)")
    return _open(folder, read_only=True)


def _annotated_folder(tmp_path: Path) -> tuple[Path, int]:
    """Two frames with their project beside them; the first has calipers and an accepted mask."""
    folder = tmp_path / "frames"
    write_frames(folder, 2, corrupt=False)
    with ProjectStore.create(folder / PROJECT_SUBFOLDER) as store:
        first = store.add_frames(sorted(folder.glob("*.png")))[0].id
        mask, calipers = truth(0)
        store.set_calipers(first, 0, calipers)
        store.set_mask(first, 0, mask, MaskProvenance.GENERATED)
    return folder, first


def _database_rows(project: Path) -> dict[str, list]:
    """Every row of every table: what 'nothing was written' is checked against."""
    with sqlite3.connect(f"{(project / DB_NAME).as_uri()}?mode=ro", uri=True) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in tables}
    conn.close()
    return rows


def test_a_read_only_project_shows_why_refuses_edits_exports_and_saves_a_copy(
        qtbot, tmp_path: Path, make_window, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, first = _annotated_folder(tmp_path)
    write_frames(tmp_path / "late", 3, corrupt=False)
    (tmp_path / "late" / "frame_03.png").rename(folder / "zz_new.png")  # a scan would add it: a write
    before = _database_rows(folder / PROJECT_SUBFOLDER)
    monkeypatch.setattr(ProjectStore, "open", staticmethod(_refuse_writable_open))

    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    banner = window.read_only_banner
    assert banner.isVisible() and "read-only" in banner.label.text() and "edits are off" in banner.label.text()
    assert banner.geometry().bottom() <= window.view.geometry().top() + 1  # the bar sits above the image
    assert window.controller.current_frame_id == first

    # a caliper click, Enter (accept), Ctrl+Z (undo): each refused with a message, no error box
    for act in (lambda: click_image(qtbot, window, 60, 60),
                lambda: press_key(qtbot, window, QtCore.Qt.Key_Return),
                lambda: press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)):
        window.statusBar().clearMessage()
        act()
        wait_idle(qtbot, window)
        assert window.statusBar().currentMessage() == REFUSED
    assert window.controller.current.pending_points == {}
    c = window.controller
    for act in (lambda: c.add_click(60, 60, True), lambda: c.paint(60, 60, 5, False, True), c.delete_object,
                lambda: c.add_scribble([(60, 60), (70, 62)], True, 5), lambda: c.add_box(40, 40, 80, 80),
                lambda: c.add_point_object(60, 60),
                c.redo, lambda: window.calibration.add_point(first, 10, 10), window.training.train,
                window.propagation.propagate, window.propagation.accept_range,
                lambda: window.model_menu.use_frame_model(tmp_path / "model.safetensors"),
                lambda: window.use_click_model(tmp_path / "clicks.safetensors")):
        window.statusBar().clearMessage()
        act()
        wait_idle(qtbot, window)
        assert window.statusBar().currentMessage() in (REFUSED, "Nothing propagated on this clip for this nodule yet")
    assert window.calibration.points == [] and not window.training.running
    c.preview_scribble([(60, 60), (70, 62)], True, 5)  # a scribble being dragged computes nothing either
    wait_idle(qtbot, window)
    assert c.current.pending_strokes == {} and c.current.pending_points == {} and c.current.live_masks == {}

    # export to a writable folder works
    dialog = window.show_export_dialog()
    with qtbot.waitSignal(dialog.finished_work, timeout=20000) as said:
        dialog.export_to(tmp_path / "export")
    assert said.args[0].startswith("Exported 1 frames") and any((tmp_path / "export").rglob("*.png"))
    dialog.close()

    # "Save a copy…" (the folder dialog answered by the test) makes a copy, off the GUI thread
    monkeypatch.setattr(banner, "ask_folder", lambda: str(tmp_path / "copy"))
    with qtbot.waitSignal(banner.copy_saved, timeout=20000) as saved:
        banner.save_button.click()
    assert saved.args[0] == tmp_path / "copy"
    window.close_project()
    assert not banner.isVisible()
    assert _database_rows(folder / PROJECT_SUBFOLDER) == before  # nothing written, not even in the background

    monkeypatch.undo()
    with ProjectStore.open(tmp_path / "copy") as copy:  # the copy opens writable, complete, finding its frames
        assert copy.read_only_reason is None and copy.calipers(first) == {0: truth(0)[1]}
        assert copy.load_frame(first).pixels.shape == truth(0)[0].shape
        copy.set_setting("edited", 1)


def test_a_writable_project_shows_no_banner(qtbot, tmp_path: Path, make_window) -> None:
    folder, _ = _annotated_folder(tmp_path)
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    assert not window.read_only_banner.isVisible()


def test_a_full_disk_gets_its_own_message_without_a_copy_offer(qtbot) -> None:
    reporter = ErrorReporter()
    with qtbot.waitSignal(reporter.shown, timeout=5000) as shown:
        reporter.report(ProjectDiskFull("/p/sonoclick.sqlite: writing failed: the disk is full"))
    assert shown.args[0].startswith("The disk is full: your last edit was not saved")
    assert "Unexpected" not in shown.args[0] and reporter.copy_button is None
    reporter._box.close()


def test_a_damaged_database_while_in_use_offers_the_copy(
        qtbot, tmp_path: Path, app_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gui.main_window import MainWindow

    folder, first = _annotated_folder(tmp_path)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    assert not window.read_only_banner.isVisible()
    with qtbot.waitSignal(window.reporter.shown, timeout=5000) as shown:
        window.reporter.report(ProjectCorrupt(f"{folder}: reading failed: the project database is damaged"))
    assert shown.args[0].startswith("The project database is damaged. Save a copy")
    monkeypatch.setattr(window.read_only_banner, "ask_folder", lambda: str(tmp_path / "rescued"))
    with qtbot.waitSignal(window.read_only_banner.copy_saved, timeout=20000):
        window.reporter.copy_button.click()
    window.close_project()
    with ProjectStore.open(tmp_path / "rescued", read_only=True) as copy:
        assert copy.calipers(first) == {0: truth(0)[1]}
