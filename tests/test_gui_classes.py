"""Label classes in the app: a class added from the toolbar's class list, a thyroid gland outlined with clicks,
a nodule inside it measured with calipers after key 1 selects *nodule*; both accepted and overlapping; exported
(COCO, PNG, point JSON, CSV) and imported into fresh projects with the same classes, masks and calipers. Also:
the class of the selected object is changed in one undoable step, written on the store worker."""
from __future__ import annotations

import csv
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: E402

from core.annotation.points import Calipers  # noqa: E402
from core.project.classes import DEFAULT_CLASS_ID  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from gui import style  # noqa: E402
from gui.class_switcher import ADD, RENAME  # noqa: E402
from gui.overlay import hex_rgb, mask_look  # noqa: E402
from gui.shortcuts import ShortcutsDialog, all_keys  # noqa: E402
from tests.conftest import click_image, drag_image, iou, place_calipers, press_key, wait_idle  # noqa: E402

SIZE = (220, 300)
GLAND_CLICKS = [(80, 110), (220, 110), (150, 60), (150, 160)]  # inside the gland, round the nodule
NODULE_CALIPERS = Calipers((137.0, 105.0), (193.0, 105.0), (165.0, 85.0), (165.0, 125.0))


def gland_frame(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """A bright gland (ellipse) with a darker nodule inside it on dark speckle; its gland and nodule masks."""
    rows, cols = np.mgrid[:SIZE[0], :SIZE[1]]
    gland = ((cols - 150) / 110) ** 2 + ((rows - 110) / 70) ** 2 <= 1
    nodule = ((cols - 165) / 28) ** 2 + ((rows - 105) / 20) ** 2 <= 1
    image = np.full(SIZE, 35.0)
    image[gland], image[nodule] = 140, 70
    noise = np.random.default_rng(5).normal(0, 12, SIZE)
    folder.mkdir(parents=True)
    cv2.imwrite(str(folder / "gland.png"), np.clip(cv2.GaussianBlur(image, (0, 0), 2) + noise, 0, 255).astype(np.uint8))
    return gland, nodule


def add_class_from_toolbar(qtbot, window, name: str) -> None:
    """Choose "Add class…" in the class list, type the name into its dialog, press OK."""
    switcher = window.class_switcher
    switcher.activated.emit(switcher.findData(ADD))
    dialog = switcher.dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    dialog.name_edit.setText(name)
    qtbot.mouseClick(dialog.buttons.button(QtWidgets.QDialogButtonBox.Ok), QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: name in window.controller.class_names().values(), timeout=10000)
    window.activateWindow()  # keys go to the window's shortcuts again
    qtbot.waitUntil(window.isActiveWindow)
    wait_idle(qtbot, window)


def by_class(store: ProjectStore, frame_id: int) -> dict[str, tuple[str, np.ndarray | None, list[Calipers]]]:
    """Class name -> (its colour, the union of its accepted masks, its calipers): what every format keeps."""
    classes = {c.id: c for c in store.classes()}
    calipers = store.calipers(frame_id)
    out: dict[str, tuple[str, np.ndarray | None, list[Calipers]]] = {}
    for oid, cid in store.object_classes(frame_id).items():
        name, colour = classes[cid].name, classes[cid].colour
        _, union, kept = out.get(name, (colour, None, []))
        mask = store.mask(frame_id, oid, accepted_only=True)
        if mask is not None:
            union = mask if union is None else union | mask
        out[name] = (colour, union, kept + ([calipers[oid]] if oid in calipers else []))
    return out


def same(found: dict, expected: dict) -> bool:
    def rounded(calipers: list[Calipers]) -> list:
        return sorted(np.round(c.as_array(), 3).tolist() for c in calipers)

    return found.keys() == expected.keys() and all(
        found[n][0] == expected[n][0] and np.array_equal(found[n][1], expected[n][1])
        and rounded(found[n][2]) == rounded(expected[n][2]) for n in expected)


def import_into_fresh_project(qtbot, window, folder: Path, project: Path, imports: list[tuple[str, Path]]
                              ) -> ProjectStore:
    assert window.open_path(folder, project_dir=project)
    wait_idle(qtbot, window)
    dialog = window.show_export_dialog()
    for format_name, path in imports:
        with qtbot.waitSignal(dialog.finished_work, timeout=20000) as said:
            dialog.check_import(format_name, path)
        assert said.args[0].startswith("Ready to import 1 frames"), said.args[0]
        with qtbot.waitSignal(dialog.finished_work, timeout=20000) as said:
            dialog.apply_plan()
        assert said.args[0].startswith("Imported annotations for 1 frames"), said.args[0]
    wait_idle(qtbot, window)
    dialog.close()
    return window.session.store


def test_gland_by_clicks_and_nodule_by_calipers_overlap_and_survive_export_and_import(
        qtbot, tmp_path: Path, make_window) -> None:
    gland_truth, nodule_truth = gland_frame(tmp_path / "frames")
    window = make_window()
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    c, store = window.controller, window.session.store
    frame_id = c.current_frame_id
    assert window.class_switcher.itemText(0) == "1 nodule" and c.selected_class == DEFAULT_CLASS_ID

    add_class_from_toolbar(qtbot, window, "thyroid gland")
    gland = next(k for k in store.classes() if k.name == "thyroid gland")
    press_key(qtbot, window, QtCore.Qt.Key_2)  # select it (adding it selected it already)
    assert c.selected_class == gland.id and window.class_switcher.currentData() == gland.id
    press_key(qtbot, window, QtCore.Qt.Key_K)
    assert window.tools.tool == "clicks"
    for x, y in GLAND_CLICKS:
        click_image(qtbot, window, x, y)
    wait_idle(qtbot, window)
    assert store.object_classes(frame_id) == {0: gland.id}

    press_key(qtbot, window, QtCore.Qt.Key_1)  # nodule: a new object, since the frame has no nodule yet
    assert c.selected_class == DEFAULT_CLASS_ID and c.current_object == 1
    assert window.class_switcher.currentData() == DEFAULT_CLASS_ID
    press_key(qtbot, window, QtCore.Qt.Key_C)
    place_calipers(qtbot, window, NODULE_CALIPERS)
    press_key(qtbot, window, QtCore.Qt.Key_Return)
    wait_idle(qtbot, window)

    assert store.object_classes(frame_id) == {0: gland.id, 1: DEFAULT_CLASS_ID}
    gland_mask, nodule_mask = (store.mask(frame_id, oid, accepted_only=True) for oid in (0, 1))
    assert iou(gland_mask, gland_truth) > 0.85 and iou(nodule_mask, nodule_truth) > 0.7
    assert (gland_mask & nodule_mask).sum() >= 0.9 * nodule_mask.sum()  # the nodule lies inside the gland
    assert set(store.calipers(frame_id)) == {1}
    assert window.panel.class_legend.entries() == [("nodule", "#f5c400"), ("thyroid gland", gland.colour)]
    assert "Thyroid gland 1" in window.panel.measurements.text() and "Nodule 2" in window.panel.measurements.text()
    assert [window.object_box.itemText(k) for k in range(window.object_box.count())] == ["Thyroid gland 1",
                                                                                          "Nodule 2"]
    with qtbot.waitSignal(window.frame_displayed, timeout=5000):  # redrawn with the gland as current object
        window.object_box.activated.emit(window.object_box.findData(0))
    assert window.class_switcher.currentData() == gland.id
    overlay = window.view.mask_item.image  # (H, W, 4): each mask in its class's colour, the nodule inside on top
    assert gland_mask[110, 60] and not nodule_mask[110, 60] and nodule_mask[105, 165]
    assert tuple(overlay[110, 60, :3]) == hex_rgb(gland.colour) and tuple(overlay[105, 165, :3]) == (245, 196, 0)
    expected = by_class(store, frame_id)

    out = tmp_path / "export"
    dialog = window.show_export_dialog()
    dialog.set_formats(["coco", "png", "points", "csv"])
    with qtbot.waitSignal(dialog.finished_work, timeout=20000) as said:
        dialog.export_to(out)
    assert said.args[0].startswith("Exported 1 frames"), said.args[0]
    dialog.close()
    with open(out / "measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["object_id"], r["method"], r["class"]) for r in rows} >= {
        ("0", "derived", "thyroid gland"), ("1", "calipers", "nodule"), ("1", "derived", "nodule")}

    fresh = import_into_fresh_project(qtbot, window, tmp_path / "frames", tmp_path / "fresh-coco",
                                      [("coco", out / "coco.json")])
    fresh_id = fresh.frames()[0].id
    assert [(k.name, k.colour) for k in fresh.classes()] == [("nodule", "#f5c400"), ("thyroid gland", gland.colour)]
    assert same(by_class(fresh, fresh_id), expected)
    assert len(fresh.object_classes(fresh_id)) == 2  # COCO keeps the two objects apart

    fresh = import_into_fresh_project(qtbot, window, tmp_path / "frames", tmp_path / "fresh-png",
                                      [("png", out), ("points", out / "labels")])
    assert [(k.name, k.colour) for k in fresh.classes()] == [("nodule", "#f5c400"), ("thyroid gland", gland.colour)]
    assert same(by_class(fresh, fresh.frames()[0].id), expected)


def test_changing_the_class_of_the_selected_object_is_one_undoable_step_off_the_gui_thread(
        qtbot, tmp_path: Path, make_window, work_threads) -> None:
    gland_frame(tmp_path / "frames")
    window = make_window()
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    c, store = window.controller, window.session.store
    frame_id = c.current_frame_id
    add_class_from_toolbar(qtbot, window, "thyroid gland")
    gland = c.class_at(2)
    press_key(qtbot, window, QtCore.Qt.Key_1)
    place_calipers(qtbot, window, NODULE_CALIPERS)
    press_key(qtbot, window, QtCore.Qt.Key_O)  # a second nodule, then back to the first through the object list
    assert c.current_object == 1 and c.selected_class == DEFAULT_CLASS_ID
    press_key(qtbot, window, QtCore.Qt.Key_2)  # the current object has not started: it just takes the class
    assert c.current_object == 1 and c.selected_class == gland
    window.object_box.activated.emit(window.object_box.findData(0))
    assert c.current_object == 0 and c.selected_class == DEFAULT_CLASS_ID  # selecting an object shows its class
    assert window.class_switcher.currentData() == DEFAULT_CLASS_ID

    work_threads.clear()
    press_key(qtbot, window, QtCore.Qt.Key_2, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert store.object_classes(frame_id) == {0: gland} and c.selected_class == gland
    assert work_threads.seen["store write"] and work_threads.on_gui_thread() == {}
    assert store.undo_label(frame_id) == "Set class"
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert store.object_classes(frame_id) == {0: DEFAULT_CLASS_ID} and len(store.calipers(frame_id)) == 1
    assert window.class_switcher.currentData() == DEFAULT_CLASS_ID

    press_key(qtbot, window, QtCore.Qt.Key_5)  # no class 5: said, nothing changes
    assert c.selected_class == DEFAULT_CLASS_ID and "No class 5" in window.statusBar().currentMessage()


def test_classes_are_renamed_through_the_dialog_and_a_taken_name_is_refused_in_the_status_bar(
        qtbot, tmp_path: Path, make_window, work_threads) -> None:
    gland_frame(tmp_path / "frames")
    window = make_window()
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    store, switcher = window.session.store, window.class_switcher
    add_class_from_toolbar(qtbot, window, "cyst")
    assert switcher.currentData() == window.controller.class_at(2)
    switcher.activated.emit(switcher.findData(RENAME))
    assert switcher.dialog.name_edit.text() == "cyst"  # the selected class is the one renamed
    switcher.dialog.name_edit.setText("simple cyst")
    switcher.dialog.buttons.button(QtWidgets.QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: switcher.itemText(1) == "2 simple cyst", timeout=10000)
    assert [k.name for k in store.classes()] == ["nodule", "simple cyst"]

    switcher.activated.emit(switcher.findData(ADD))
    switcher.dialog.name_edit.setText("Nodule")
    switcher.dialog.buttons.button(QtWidgets.QDialogButtonBox.Ok).click()
    qtbot.waitUntil(lambda: "Class not changed" in window.statusBar().currentMessage(), timeout=10000)
    assert "already a class named 'Nodule'" in window.statusBar().currentMessage()  # no error dialog either
    assert [k.name for k in store.classes()] == ["nodule", "simple cyst"] and switcher.count() == 5
    assert len(work_threads.seen["store write"]) >= 3 and work_threads.on_gui_thread() == {}  # add, rename, refused


def test_a_brush_stroke_and_a_mask_file_start_objects_of_the_selected_class(qtbot, tmp_path: Path,
                                                                          make_window) -> None:
    gland_truth, _ = gland_frame(tmp_path / "frames")
    window = make_window()
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    store, frame_id = window.session.store, window.controller.current_frame_id
    add_class_from_toolbar(qtbot, window, "thyroid gland")
    gland = window.controller.class_at(2)
    press_key(qtbot, window, QtCore.Qt.Key_B)
    drag_image(qtbot, window, [(40, 40), (50, 40), (60, 40)])
    wait_idle(qtbot, window)
    assert store.object_classes(frame_id) == {0: gland} and store.mask(frame_id, 0)[40, 50]

    press_key(qtbot, window, QtCore.Qt.Key_1)  # a nodule: a new object; its mask comes from a file
    assert window.controller.current_object == 1
    cv2.imwrite(str(tmp_path / "nodule.png"), gland_truth.astype(np.uint8) * 255)
    dialog = window.show_export_dialog()
    with qtbot.waitSignal(dialog.finished_work, timeout=20000):
        dialog.import_file(tmp_path / "nodule.png", "mask")
    wait_idle(qtbot, window)
    assert store.object_classes(frame_id) == {0: gland, 1: DEFAULT_CLASS_ID}
    dialog.close()
    window.close_project()
    assert window.class_switcher.findData(DEFAULT_CLASS_ID) == -1  # no project, no classes


def test_class_keys_clash_with_no_other_key_and_the_help_lists_them(qtbot) -> None:
    keys = [QtGui.QKeySequence(k).toString() for k in all_keys()]
    assert len(keys) == len(set(keys)) and {"1", "9", "Ctrl+1", "Ctrl+9"} <= set(keys)
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    table = dialog.findChild(QtWidgets.QTableWidget)
    shown = {table.item(row, 0).text() for row in range(table.rowCount())}
    assert {"1 … 9", "Ctrl+1 … Ctrl+9"} <= shown


def test_a_mask_is_drawn_in_its_class_colour_dashed_while_a_draft() -> None:
    colours = {1: (245, 196, 0), 2: (0, 200, 255)}
    assert mask_look("accepted", 2, colours) == ((0, 200, 255), False)
    assert mask_look("draft", 2, colours) == ((0, 200, 255), True)
    assert mask_look("predicted", 2, colours) == (style.MASK_PREDICTED, False)  # the model's, no class yet
    assert hex_rgb("#f5c400") == (245, 196, 0)
