"""The interactive engine started from a box: outside is background, inside the box's shape prior, one undo
step; and the robot-user benchmark's box start (2 clicks)."""
import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map
from core.annotation.sparse_simulation import object_boxes
from core.interactive.clicks_benchmark import BOX_CLICKS, run_frame, summarise
from core.interactive.crop_seeds import box_calipers
from core.interactive.session import InteractionSession
from core.runtime.metrics import iou
from core.training.synthetic import make_frame


@pytest.fixture(scope="module")
def frame():
    return make_frame(11, size=(200, 240), contrast=0.5)


def _loose_box(mask: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = object_boxes(mask)[0]
    return x0 - margin, y0 - margin, x1 + margin, y1 + margin


def test_a_box_gives_a_good_mask_inside_it_at_once(frame) -> None:
    session = InteractionSession(frame.image)
    x0, y0, x1, y1 = _loose_box(frame.mask, 4)
    mask = session.set_box(x1, y1, x0, y0)  # dragged from the bottom right: corners in any order
    outside = np.ones(mask.shape, bool)
    outside[y0:y1 + 1, x0:x1 + 1] = False
    # this nodule lies diagonally in its box, the hard case for an axis-aligned prior
    assert iou(mask, frame.mask) > 0.65 and iou(mask, frame.mask) > iou(~outside, frame.mask) + 0.15
    assert not (mask & outside).any()
    assert session.box == (x0, y0, x1, y1) and session.calipers == box_calipers((x0, y0, x1, y1))


def test_clicks_after_a_box_keep_its_outside_background_and_undo_steps_back(frame) -> None:
    session = InteractionSession(frame.image)
    x0, y0, x1, y1 = _loose_box(frame.mask, 4)
    first = session.set_box(x0, y0, x1, y1).copy()
    ys, xs = np.nonzero(frame.mask & ~first)
    if len(xs) == 0:  # the box alone was perfect: click a background pixel inside the box instead
        ys, xs = np.nonzero(~frame.mask & ~first)
        ys, xs = ys[(ys > y0) & (ys < y1) & (xs > x0) & (xs < x1)], xs[(ys > y0) & (ys < y1) & (xs > x0) & (xs < x1)]
    after = session.add_click(int(xs[0]), int(ys[0]), bool(frame.mask[ys[0], xs[0]]))
    assert session.box == (x0, y0, x1, y1)
    assert not after[:y0].any() and not after[y1 + 1:].any() and not after[:, :x0].any() and not after[:, x1 + 1:].any()
    assert np.array_equal(session.undo(), first)
    assert np.array_equal(session.undo(), np.zeros(frame.mask.shape, bool))


def test_calipers_replace_the_box_and_reset_clears_it(frame) -> None:
    session = InteractionSession(frame.image)
    session.set_box(*_loose_box(frame.mask, 4))
    session.set_calipers(calipers_from_label_map(frame.mask)[0])
    assert session.box is None
    session.set_box(*_loose_box(frame.mask, 4))
    session.reset()
    assert session.box is None and session.calipers is None


def test_a_degenerate_box_is_refused(frame) -> None:
    with pytest.raises(ValueError, match="too small"):
        InteractionSession(frame.image).set_box(10, 10, 11, 40)


def test_the_benchmark_counts_a_box_as_two_clicks(frame) -> None:
    run = run_frame(frame.image, frame.mask, "box", 20, 0.0, np.random.default_rng(0))
    assert run.ious[:BOX_CLICKS - 1] == [0.0] and run.ious[BOX_CLICKS - 1] > 0.7
    summary = summarise([run], 20)
    assert BOX_CLICKS <= summary["noc85"] <= 20


def test_a_positive_click_brings_back_a_part_the_box_clipped_but_not_far_outside(frame) -> None:
    session = InteractionSession(frame.image)
    x0, y0, x1, y1 = object_boxes(frame.mask)[0]
    clipped = x1 - 6
    first = session.set_box(x0, y0, clipped, y1)
    assert not first[:, clipped + 1:].any()
    ys, xs = np.nonzero(frame.mask[:, clipped + 2:clipped + 5])
    x, y = int(xs[len(xs) // 2]) + clipped + 2, int(ys[len(ys) // 2])
    after = session.add_click(x, y, True)
    assert after[y, x] and after[:, clipped + 1:].sum() > 13  # more than the clicked disc (radius 2) comes back
    slack = max(3, round(0.1 * max(clipped - x0, y1 - y0)))
    assert not after[:, clipped + slack + 1:].any()
