"""Tools and views of the main window: dragging a caliper end, brush and eraser, several nodules, navigation,
overlay toggles, window/level on 16-bit frames, cine playback, the help dialog, and a model's predictions."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from core.annotation.points import PointKind  # noqa: E402
from core.project.display_status import DisplayStatus  # noqa: E402
from core.project.records import MaskProvenance  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402
from gui.shortcuts import ShortcutsDialog  # noqa: E402
from tests.conftest import (  # noqa: E402
    click_image,
    drag_image,
    place_calipers,
    press_key,
    truth,
    wait_idle,
    write_frames,
)


@pytest.fixture
def opened(qtbot, tmp_path: Path, make_window):
    """A window on a folder of three synthetic frames and a corrupt file, the first frame shown."""
    write_frames(tmp_path / "frames", 3)
    window = make_window()
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    return window


def test_dragging_a_caliper_end_moves_it_and_recomputes_the_mask(qtbot, opened) -> None:
    window = opened
    _, calipers = truth(0)
    place_calipers(qtbot, window, calipers)
    store, frame_id = window.session.store, window.controller.current_frame_id
    before = store.mask(frame_id).copy()
    (x, y) = calipers.long_2
    drag_image(qtbot, window, [(x, y), (x + 4, y), (x + 8, y), (x + 12, y)])
    wait_idle(qtbot, window)
    moved = store.calipers(frame_id)[0].long_2
    assert abs(moved[0] - (x + 12)) < 1.0 and abs(moved[1] - y) < 1.0
    assert len(store.points(frame_id)) == 4  # moved, not added
    assert not np.array_equal(store.mask(frame_id), before)
    press_key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    wait_idle(qtbot, window)
    assert store.calipers(frame_id)[0].long_2 == pytest.approx(calipers.long_2, abs=1.0)
    assert np.array_equal(store.mask(frame_id), before)


def test_brush_paints_and_eraser_erases_the_current_nodule(qtbot, opened) -> None:
    window = opened
    store, frame_id = window.session.store, window.controller.current_frame_id
    press_key(qtbot, window, QtCore.Qt.Key_B)
    drag_image(qtbot, window, [(40, 40), (50, 40), (60, 40), (70, 40)])
    wait_idle(qtbot, window)
    painted = store.mask(frame_id, 0)
    assert painted is not None and painted[40, 40:71].all() and painted.sum() > 100
    assert store.masks(frame_id)[0].provenance == MaskProvenance.PAINTED
    press_key(qtbot, window, QtCore.Qt.Key_E)
    click_image(qtbot, window, 55, 40)
    wait_idle(qtbot, window)
    erased = store.mask(frame_id, 0)
    assert not erased[40, 55] and erased[40, 40] and erased.sum() < painted.sum()
    assert window.frame_list.status(frame_id) == DisplayStatus.DRAFT


def test_second_nodule_gets_its_own_calipers_mask_and_can_be_deleted(qtbot, opened) -> None:
    window = opened
    store, frame_id = window.session.store, window.controller.current_frame_id
    _, calipers = truth(0)
    place_calipers(qtbot, window, calipers)
    press_key(qtbot, window, QtCore.Qt.Key_O)
    assert window.controller.current_object == 1
    press_key(qtbot, window, QtCore.Qt.Key_K)
    click_image(qtbot, window, 30, 180)
    wait_idle(qtbot, window)
    assert set(store.masks(frame_id)) == {0, 1}
    assert {p.object_id for p in store.points(frame_id).values() if p.kind == PointKind.FOREGROUND} == {1}
    assert window.object_box.count() == 2
    press_key(qtbot, window, QtCore.Qt.Key_Delete)
    wait_idle(qtbot, window)
    assert set(store.masks(frame_id)) == {0}


def test_navigation_skips_unreadable_frames_and_finds_unlabelled_ones(qtbot, opened) -> None:
    window = opened
    frames, controller = window.frame_list, window.controller
    name = lambda: frames.record(controller.current_frame_id).source.name  # noqa: E731
    assert name() == "frame_01.png"
    press_key(qtbot, window, QtCore.Qt.Key_P)  # broken.png is before frame_01 but unreadable: stay
    assert name() == "frame_01.png"
    press_key(qtbot, window, QtCore.Qt.Key_Right)
    wait_idle(qtbot, window)
    assert name() == "frame_02.png"
    place_calipers(qtbot, window, truth(1)[1])
    press_key(qtbot, window, QtCore.Qt.Key_Return)
    press_key(qtbot, window, QtCore.Qt.Key_Left)
    wait_idle(qtbot, window)
    press_key(qtbot, window, QtCore.Qt.Key_U)  # frame_02 is labelled now: next unlabelled is frame_03
    wait_idle(qtbot, window)
    assert name() == "frame_03.png"
    frames.filter_box.setCurrentIndex(4)  # "Mask accepted"
    assert [frames.record(f).source.name for f in frames.visible_ids()] == ["frame_02.png"]
    frames.filter_box.setCurrentIndex(6)  # "Unreadable"
    assert [frames.record(f).source.name for f in frames.visible_ids()] == ["broken.png"]
    broken = frames.visible_ids()[0]
    frames.tree.setCurrentItem(frames._items[broken])  # chosen explicitly: shown with the reason
    wait_idle(qtbot, window)
    assert "Cannot read this frame" in window.view.message_item.textItem.toPlainText()
    assert window.controller.display() == []


def test_space_hides_masks_and_h_shows_confident_and_uncertain_regions(qtbot, opened) -> None:
    window = opened
    place_calipers(qtbot, window, truth(0)[1])
    assert window.view.mask_item.image is not None
    press_key(qtbot, window, QtCore.Qt.Key_Space)
    qtbot.waitUntil(lambda: window.view.mask_item.image is None)
    press_key(qtbot, window, QtCore.Qt.Key_Space)
    qtbot.waitUntil(lambda: window.view.mask_item.image is not None)
    press_key(qtbot, window, QtCore.Qt.Key_H)
    qtbot.waitUntil(lambda: window.view.confidence_item.image is not None, timeout=5000)
    rgba = window.view.confidence_item.image
    colours = {tuple(c) for c in rgba[rgba[..., 3] > 0][:, :3].tolist()}
    assert len(colours) >= 2  # confident nodule and uncertain band


def test_sixteen_bit_frames_get_a_data_window_and_right_drag_changes_it(qtbot, tmp_path: Path, make_window) -> None:
    folder = tmp_path / "deep"
    folder.mkdir()
    image = make_frame(5, (200, 240)).image.astype(np.uint16) * 16 + 1000  # 12-bit data in a 16-bit file
    cv2.imwrite(str(folder / "deep.png"), image)
    window = make_window()
    assert window.open_path(folder / "deep.png")
    wait_idle(qtbot, window)
    low, high = window.window_level.levels
    assert 900 <= low < high <= 1000 + 255 * 16 + 1
    width_before = window.panel.window_box.value()
    drag_image(qtbot, window, [(100, 100), (110, 100), (130, 100), (150, 100)], QtCore.Qt.RightButton)
    assert window.panel.window_box.value() > width_before
    assert window.view.image_item.levels is not None and window.view.image_item.levels[1] > high


def test_cine_loop_has_a_slider_and_plays(qtbot, tmp_path: Path, make_window) -> None:
    folder = tmp_path / "cine"
    folder.mkdir()
    pages = [np.roll(make_frame(7, (120, 160)).image, k, axis=1) for k in range(6)]
    cv2.imwritemulti(str(folder / "loop.tif"), pages)
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window)
    assert window.cine.isVisible() and window.cine.slider.maximum() == 5
    first = window.controller.current_frame_id
    window.cine.slider.setValue(3)
    qtbot.waitUntil(lambda: window.controller.current_frame_id != first)
    assert window.frame_list.record(window.controller.current_frame_id).index == 3
    press_key(qtbot, window, QtCore.Qt.Key_Space, QtCore.Qt.ShiftModifier)
    assert window.cine.playing
    qtbot.waitUntil(lambda: window.frame_list.record(window.controller.current_frame_id).index != 3, timeout=3000)
    press_key(qtbot, window, QtCore.Qt.Key_Space, QtCore.Qt.ShiftModifier)
    assert not window.cine.playing


def test_question_mark_opens_the_shortcuts_help_without_blocking(qtbot, opened) -> None:
    window = opened
    press_key(qtbot, window, QtCore.Qt.Key_Question)
    dialog = window._dialogs.get("help")
    assert isinstance(dialog, ShortcutsDialog) and dialog.isVisible() and not dialog.isModal()


def test_predictions_of_a_configured_model_show_on_unlabelled_frames(qtbot, tmp_path: Path, make_window) -> None:
    torch = pytest.importorskip("torch")
    from core.project.location import PROJECT_SUBFOLDER
    from core.project.store import ProjectStore
    from core.serving.frame_model import MODEL_SETTING
    from models.checkpoint import save_checkpoint
    from models.preprocess import Normalisation
    from models.unet import build_unet

    torch.manual_seed(0)
    model = build_unet("fast")
    with torch.no_grad():  # an untrained net whose output bias says "nodule everywhere"
        last = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
        last.bias.fill_(5.0)
    checkpoint = save_checkpoint(tmp_path / "model.safetensors", model,
                                 {"resolution": 64, "normalisation": Normalisation().to_dict()})
    folder = tmp_path / "frames"
    write_frames(folder, 1, corrupt=False)
    with ProjectStore.create(folder / PROJECT_SUBFOLDER) as store:
        store.set_setting(MODEL_SETTING, str(checkpoint))
    window = make_window()
    assert window.open_path(folder)
    wait_idle(qtbot, window, timeout_ms=60000)
    frame_id = window.controller.current_frame_id
    assert window.frame_list.status(frame_id) == DisplayStatus.PREDICTED
    shown = window.controller.display()
    assert shown[0].mask_kind == "predicted" and shown[0].mask.any()
    press_key(qtbot, window, QtCore.Qt.Key_Return)
    wait_idle(qtbot, window)
    assert window.session.store.masks(frame_id)[0].provenance == MaskProvenance.GENERATED
    assert window.frame_list.status(frame_id) == DisplayStatus.ACCEPTED
