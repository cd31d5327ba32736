"""The region a nodule scribble claims from the background scribble drawn round it."""
import cv2
import numpy as np

from core.labels.between_strokes import region_between_strokes


def _ring(shape: tuple[int, int], centre: tuple[int, int], radius: int) -> np.ndarray:
    ring = np.zeros(shape, np.uint8)
    cv2.circle(ring, centre, radius, 1, 2)
    return ring.astype(bool)


def _dot(shape: tuple[int, int], centre: tuple[int, int]) -> np.ndarray:
    dot = np.zeros(shape, bool)
    dot[centre[1] - 1:centre[1] + 2, centre[0] - 1:centre[0] + 2] = True
    return dot


def test_on_a_flat_frame_the_region_ends_half_way_to_the_background_stroke() -> None:
    shape, centre = (100, 100), (50, 50)
    region = region_between_strokes(np.full(shape, 120, np.uint8), _dot(shape, centre), _ring(shape, centre, 30))
    ys, xs = np.nonzero(region)
    reach = np.hypot(xs - 50, ys - 50)
    assert reach.max() <= 16.5  # half of the 30 px to the ring, plus the dot's and the ring's own half-widths
    assert abs(region.sum() - np.pi * 15 ** 2) < 0.15 * np.pi * 15 ** 2


def test_an_edge_between_the_strokes_pulls_the_region_towards_it() -> None:
    shape, centre = (100, 100), (50, 50)
    image = np.full(shape, 160, np.uint8)
    cv2.circle(image, centre, 22, 40, -1)  # a dark nodule of radius 22, the ring at 30 outside it
    fg, bg = _dot(shape, centre), _ring(shape, centre, 30)
    nodule = np.zeros(shape, np.uint8)
    cv2.circle(nodule, centre, 22, 1, -1)
    nodule = nodule.astype(bool)

    def dice(region: np.ndarray) -> float:
        return 2 * (region & nodule).sum() / (region.sum() + nodule.sum())

    flat = region_between_strokes(image, fg, bg, edge_weight=0.0)
    edged = region_between_strokes(image, fg, bg, edge_weight=5.0)
    assert dice(edged) > dice(flat) + 0.05


def test_no_region_without_labels_on_both_sides_and_never_on_background_labels() -> None:
    shape, centre = (60, 60), (30, 30)
    image = np.full(shape, 100, np.uint8)
    fg, bg = _dot(shape, centre), _ring(shape, centre, 12)
    assert not region_between_strokes(image, fg, np.zeros(shape, bool)).any()
    assert not region_between_strokes(image, np.zeros(shape, bool), bg).any()
    region = region_between_strokes(image, fg, bg, reach=5.0)  # reach past the ring: it still stops before it
    assert region.any() and not (region & bg).any()
