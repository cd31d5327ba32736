"""The export dialog offers every format and exports through the registry; an import is checked and previewed
first, applied only on "Apply import", and each frame's change is one undoable user action."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from core.exchange.registry import formats  # noqa: E402
from core.project.records import MaskProvenance  # noqa: E402
from tests.conftest import press_key, truth, wait_idle, write_frames  # noqa: E402


def test_dialog_exports_every_format_and_imports_after_a_preview(qtbot, tmp_path: Path, make_window) -> None:
    folder = tmp_path / "frames"
    write_frames(folder, 2, corrupt=False)
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    store = window.session.store
    first, second = [r.id for r in store.frames()]
    gland = store.add_class("thyroid gland")
    mask, calipers = truth(0)
    store.set_mask(first, 0, mask, MaskProvenance.REFINED)
    store.set_calipers(first, 0, calipers)
    store.set_mask(first, 1, np.pad(np.ones((100, 100), bool), ((50, 70), (80, 120))), MaskProvenance.PAINTED)
    store.set_object_class(first, 1, gland.id)

    dialog = window.show_export_dialog()
    writable = [name for name, f in formats().items() if f.writer is not None]
    assert sorted(dialog.chosen_formats()) == ["csv", "png", "points"]  # what the app always wrote
    dialog.set_formats(writable)
    assert dialog.chosen_formats() == writable
    out = tmp_path / "export"
    with qtbot.waitSignal(dialog.finished_work, timeout=20000) as said:
        dialog.export_to(out)
    assert said.args[0].startswith("Exported 1 frames")
    assert (out / "coco.json").is_file() and (out / "cvat.xml").is_file() and (out / "masks-thyroid-gland").is_dir()

    # import the COCO file onto the second frame's twin: here the first frame's masks come back onto itself
    store.delete_mask(first, 1)
    with qtbot.waitSignal(dialog.finished_work, timeout=20000) as said:
        dialog.check_import("coco", out / "coco.json")
    assert said.args[0] == "Ready to import 1 frames — press Apply import"
    assert "masks 1 -> 2" in dialog.log.toPlainText() and dialog.apply_button.isEnabled()
    assert store.mask(first, accepted_only=True).sum() == mask.sum()  # nothing written before Apply

    with qtbot.waitSignal(dialog.finished_work, timeout=20000) as said:
        dialog.apply_plan()
    assert said.args[0].startswith("Imported annotations for 1 frames")
    classes = store.object_classes(first)
    assert sorted(classes.values()) == [1, gland.id] and len(store.calipers(first)) == 1
    assert store.mask(second) is None

    # one user action: undo in the app brings back the frame as it was before the import
    assert window.controller.current_frame_id == first
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    wait_idle(qtbot, window)
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    qtbot.waitUntil(lambda: store.masks(first).keys() == {0}, timeout=10000)
    assert store.object_classes(first) == {0: 1} and store.calipers(first) == {0: calipers}
    dialog.close()
