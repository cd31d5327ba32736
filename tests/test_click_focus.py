"""Stray parts of a starting mask (a frame model's nodule plus a blob far away): the click network's window stays
on the object being refined, and stray parts do not cost the user a click each and a stretched window."""
import numpy as np
import pytest
from scipy import ndimage

from core.annotation.clicks import Click
from core.interactive.click_focus import focus_window, refined_object, stray_part
from core.interactive.clicks_benchmark import run_frame
from core.interactive.session import InteractionSession
from core.labels.crop import Crop
from core.training.synthetic import make_frame


def disc(shape: tuple[int, int], cx: float, cy: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


class TruthNetwork:
    """Answers with the true nodule seen at `size` x `size` pixels over its window: a perfect click network
    whose detail, like a real one's, shrinks as its window grows."""

    def __init__(self, truth: np.ndarray, size: int = 0) -> None:
        self.truth, self.size = truth, size
        self.windows: list[Crop] = []

    def predict(self, image, window: Crop, positives, negatives, prev_mask) -> np.ndarray:
        self.windows.append(window)
        part = window.take(self.truth).astype(np.float32)
        if self.size:
            h, w = part.shape
            small = ndimage.zoom(part, (self.size / h, self.size / w), order=1)
            part = ndimage.zoom(small, (h / small.shape[0], w / small.shape[1]), order=1)[:h, :w]
            part = np.pad(part, ((0, h - part.shape[0]), (0, w - part.shape[1])), mode="edge")
        return part


SHAPE = (120, 200)
NODULE = disc(SHAPE, 150, 60, 20)
BLOB = disc(SHAPE, 25, 25, 10)


def test_a_negative_click_in_a_stray_part_removes_it_whole() -> None:
    shown = NODULE | BLOB
    part = stray_part(shown, (Click(25, 25, False),), np.zeros((0, 2)))
    assert part is not None and np.array_equal(part, BLOB)  # the blob is not the larger part
    # on the largest part with no positive click yet, or on a part holding one, the click only trims
    assert stray_part(shown, (Click(150, 60, False),), np.zeros((0, 2))) is None
    assert stray_part(shown, (Click(25, 25, False),), np.array([[25.0, 25.0]])) is None
    assert stray_part(NODULE, (Click(150, 60, False),), np.zeros((0, 2))) is None
    # with a positive click on the nodule, even a larger stray part goes whole
    big_blob = disc(SHAPE, 40, 60, 30)
    part = stray_part(NODULE | big_blob, (Click(150, 60, True), Click(40, 60, False)), np.array([[150.0, 60.0]]))
    assert part is not None and np.array_equal(part, big_blob)


def test_the_refined_object_is_the_part_clicked() -> None:
    shown = NODULE | BLOB
    assert np.array_equal(refined_object(shown, np.array([[150.0, 60.0]]), ()), NODULE)
    assert np.array_equal(refined_object(shown, np.zeros((0, 2)), (Click(25, 25, False),)), BLOB)
    # a positive click just outside the nodule refines it; one far from every part leaves them all stray
    assert np.array_equal(refined_object(shown, np.array([[150.0, 90.0]]), ()), NODULE)
    assert not refined_object(shown, np.array([[80.0, 110.0]]), ()).any()
    # a negative click off every part (nothing to tell which): all of it
    assert np.array_equal(refined_object(shown, np.zeros((0, 2)), (Click(80, 110, False),)), shown)


def test_far_negative_clicks_do_not_stretch_the_window() -> None:
    near_and_far = np.array([[150.0, 85.0], [25.0, 25.0]])
    window = focus_window(SHAPE, NODULE, np.array([[150.0, 60.0]]), near_and_far)
    assert window.contains(Crop(40, 81, 130, 171)) and window.y1 > 85  # the nodule and the click beside it
    assert window.x0 > 60  # not the click on the blob already removed
    lone = focus_window(SHAPE, np.zeros(SHAPE, bool), np.zeros((0, 2)), np.array([[25.0, 25.0]]))
    assert lone.x0 <= 25 < lone.x1 and lone.y0 <= 25 < lone.y1


@pytest.fixture()
def frame_and_blob():
    frame = make_frame(2, size=(160, 200), contrast=0.6)
    ys, xs = np.nonzero(frame.mask)
    far = np.argmax(ndimage.distance_transform_edt(~frame.mask)[12:-12, 12:-12])
    by, bx = np.unravel_index(far, (160 - 24, 200 - 24))
    return frame, disc(frame.mask.shape, bx + 12, by + 12, 8)


def test_a_positive_click_drops_stray_parts_and_zooms_on_the_object(frame_and_blob) -> None:
    frame, blob = frame_and_blob
    core = ndimage.binary_erosion(frame.mask, iterations=3)
    net = TruthNetwork(frame.mask)
    session = InteractionSession(frame.image, (core | blob).astype(np.float32), click_model=net)
    ys, xs = np.nonzero(core)
    mask = session.add_click(int(xs.mean()), int(ys.mean()), True)
    assert not (mask & blob).any() and (mask & frame.mask).sum() / (mask | frame.mask).sum() > 0.95
    by, bx = np.nonzero(blob)
    assert not net.windows[-1].contains(Crop(by.min(), by.max() + 1, bx.min(), bx.max() + 1))


def test_a_stray_blob_costs_one_click_not_a_stretched_window(frame_and_blob) -> None:
    frame, blob = frame_and_blob
    core = ndimage.binary_erosion(frame.mask, iterations=4)
    net = TruthNetwork(frame.mask, size=24)

    def clicks_to_90(start: np.ndarray) -> int:
        run = run_frame(frame.image, frame.mask, "none", 12, 0.0, np.random.default_rng(0),
                        start.astype(np.float32), net)
        return run.noc(0.90, 12)

    with_blob, without = clicks_to_90(core | blob), clicks_to_90(core)
    assert without < 12 and with_blob <= without + 1
    session = InteractionSession(frame.image, (core | blob).astype(np.float32), click_model=net)
    by, bx = np.nonzero(blob)
    mask = session.add_click(int(bx.mean()), int(by.mean()), False)
    assert np.array_equal(mask, core)  # the blob goes whole and the nodule is left as it was
