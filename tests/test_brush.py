"""Brush and eraser on a mask, and the display window of a frame (default and dragged). Headless."""
from __future__ import annotations

import numpy as np
import pytest

from core.interactive.brush import MAX_RADIUS, PaintLayer, apply_stroke, clamp_radius, stroke_mask
from core.io.display_levels import CENTRE_PX, DOUBLING_PX, default_levels, dragged_levels


def test_a_click_paints_a_disc_of_the_brush_radius() -> None:
    disc = stroke_mask((50, 60), [(30.0, 20.0)], 5)
    ys, xs = np.nonzero(disc)
    assert disc[20, 30] and disc[20, 35] and disc[25, 30] and not disc[20, 36] and not disc[26, 30]
    assert np.all((xs - 30) ** 2 + (ys - 20) ** 2 <= 5 ** 2 + 5)  # a disc, not a square
    assert abs(int(disc.sum()) - np.pi * 25) < 15


def test_a_drag_covers_the_whole_path_with_round_ends() -> None:
    stroke = stroke_mask((50, 80), [(10.0, 25.0), (40.0, 25.0), (70.0, 10.0)], 3)
    assert stroke[25, 10:41].all() and stroke[22:29, 25].all() and not stroke[25, 5] and not stroke[40, 40]
    assert stroke[10, 70] and stroke[10, 73] and not stroke[10, 75]
    assert not stroke_mask((10, 10), [(50.0, 50.0)], 3).any()  # off the frame: nothing


def test_paint_adds_and_erase_removes_without_touching_the_input() -> None:
    mask = np.zeros((20, 20), bool)
    mask[5:10, 5:10] = True
    stroke = stroke_mask((20, 20), [(12.0, 7.0)], 2)
    painted = apply_stroke(mask, stroke, erase=False)
    erased = apply_stroke(mask, stroke, erase=True)
    assert np.array_equal(painted, mask | stroke) and np.array_equal(erased, mask & ~stroke)
    assert mask.sum() == 25  # unchanged


def test_strokes_stay_on_top_of_later_engine_masks_and_the_latest_wins() -> None:
    layer = PaintLayer.empty((20, 20))
    assert not layer.touched
    left = np.zeros((20, 20), bool)
    left[:, :10] = True
    top = np.zeros((20, 20), bool)
    top[:10, :] = True
    layer.add_stroke(left, erase=False)
    layer.add_stroke(top, erase=True)  # erases the top half, painted or not
    engine_mask = np.zeros((20, 20), bool)
    engine_mask[15:, 15:] = True
    shown = layer.apply(engine_mask)
    assert layer.touched
    assert not shown[:10].any() and shown[10:, :10].all() and shown[15:, 15:].all() and not shown[12, 12]
    layer.add_stroke(top, erase=False)  # painted again: the later stroke wins
    assert layer.apply(engine_mask)[:10].all()


@pytest.mark.parametrize(("asked", "given"), [(0, 1), (-4, 1), (6, 6), (500, MAX_RADIUS)])
def test_brush_radius_is_kept_in_range(asked: int, given: int) -> None:
    assert clamp_radius(asked) == given


def test_default_window_is_full_range_for_8_bit_and_percentiles_for_16_bit() -> None:
    rng = np.random.default_rng(0)
    assert default_levels(rng.integers(0, 50, (10, 10), dtype=np.uint8)) == (0.0, 255.0)
    wide = rng.integers(1000, 3000, (200, 200)).astype(np.uint16)
    wide[0, 0], wide[0, 1] = 0, 65535  # outliers the window leaves out
    lo, hi = default_levels(wide)
    assert 1000 <= lo < 1020 and 2980 < hi <= 3000
    assert default_levels(np.full((5, 5), 700, np.uint16)) == (700.0, 701.0)  # flat: still a valid window


def test_dragging_right_widens_and_up_raises_the_centre() -> None:
    assert dragged_levels((100.0, 200.0), 0.0, 0.0) == (100.0, 200.0)
    lo, hi = dragged_levels((100.0, 200.0), DOUBLING_PX, 0.0)
    assert (lo, hi) == pytest.approx((50.0, 250.0))
    lo, hi = dragged_levels((100.0, 200.0), 0.0, -CENTRE_PX)
    assert (lo, hi) == pytest.approx((200.0, 300.0))
    lo, hi = dragged_levels((100.0, 101.0), -10 * DOUBLING_PX, 0.0)
    assert hi - lo == pytest.approx(1.0)  # never narrower than one grey level
