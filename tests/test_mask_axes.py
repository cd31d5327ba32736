"""Axes derived from a mask: exact shapes against their known diameters, in pixels and on anisotropic grids."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_mask
from core.annotation.mask_axes import mask_axes
from core.annotation.measurements import DERIVED, derived_axes, length_mm, measure_frame
from core.annotation.points import Calipers


def ellipse(cx: float, cy: float, a: float, b: float, angle_deg: float, shape=(240, 320), spacing=(1.0, 1.0)):
    """Pixels whose centre lies inside the ellipse (semi-axes a, b along angle_deg, in the units of `spacing`,
    which is (row, col) size of a pixel)."""
    rows, cols = np.mgrid[: shape[0], : shape[1]].astype(float)
    x, y = cols * spacing[1] - cx, rows * spacing[0] - cy
    t = math.radians(angle_deg)
    u, v = x * math.cos(t) + y * math.sin(t), -x * math.sin(t) + y * math.cos(t)
    return (u / a) ** 2 + (v / b) ** 2 <= 1


def _cos_between(c: Calipers, scale=(1.0, 1.0)) -> float:
    p = c.as_array() * np.array([scale[1], scale[0]])
    long_dir, short_dir = p[1] - p[0], p[3] - p[2]
    return abs(long_dir @ short_dir) / (np.linalg.norm(long_dir) * np.linalg.norm(short_dir))


def test_axis_aligned_ellipse() -> None:
    axes = mask_axes(ellipse(160.37, 118.71, 80.3, 35.6, 0))
    assert axes.long_axis_px == pytest.approx(2 * 80.3, abs=1)
    assert axes.short_axis_px == pytest.approx(2 * 35.6, abs=1)
    (x1, y1), (x2, y2) = axes.long_1, axes.long_2
    # the tips are flat runs of pixels: any pair across them is a farthest pair, so the direction is loose
    assert abs(y2 - y1) / (x2 - x1) < math.tan(math.radians(4)) and x1 < x2  # horizontal, leftmost end first
    assert _cos_between(axes) < 0.02


@pytest.mark.parametrize("angle", [17, 35, 45, 60, 123])
def test_rotated_ellipse(angle: float) -> None:
    axes = mask_axes(ellipse(160.2, 120.6, 80.3, 35.6, angle))
    assert axes.long_axis_px == pytest.approx(2 * 80.3, abs=1)
    assert axes.short_axis_px == pytest.approx(2 * 35.6, abs=1)
    direction = np.subtract(axes.long_2, axes.long_1)
    assert math.degrees(math.atan2(direction[1], direction[0])) % 180 == pytest.approx(angle, abs=4)
    assert _cos_between(axes) < 1e-9  # perpendicular by construction
    # the short axis crosses the long one near the centre (the width is flat there: a few px along it are equal)
    middle = np.mean([axes.short_1, axes.short_2], axis=0) - (160.2, 120.6)
    unit = direction / np.linalg.norm(direction)
    assert abs(middle @ unit) < 0.1 * 80.3 and abs(middle @ (-unit[1], unit[0])) < 1.5


def test_rectangle_long_axis_is_its_diagonal() -> None:
    mask = np.zeros((100, 120), bool)
    mask[20:60, 10:90] = True  # 80 x 40 pixels
    axes = mask_axes(mask)
    assert axes.long_axis_px == pytest.approx(math.hypot(80, 40), abs=1)
    ends = sorted([axes.long_1, axes.long_2])
    assert ends[0] == pytest.approx((9.5, 59.5), abs=1) and ends[1] == pytest.approx((89.5, 19.5), abs=1)


def test_anisotropic_spacing_finds_the_axes_in_millimetres() -> None:
    mask = ellipse(160.3, 120.4, 40, 30, 0)  # in pixels: 80 wide, 60 tall
    spacing = (0.2, 0.1)  # (row mm, col mm): 8 mm wide, 12 mm tall
    in_px = mask_axes(mask)
    in_mm = mask_axes(mask, spacing)
    assert in_px.long_axis_px == pytest.approx(80, abs=1)  # without spacing the width is the longer
    assert length_mm(in_mm.long_1, in_mm.long_2, spacing) == pytest.approx(12, abs=0.2)
    assert length_mm(in_mm.short_1, in_mm.short_2, spacing) == pytest.approx(8, abs=0.1)
    dx, dy = np.subtract(in_mm.long_2, in_mm.long_1)
    assert abs(dx) * spacing[1] < 0.15 * abs(dy) * spacing[0]  # vertical in the image (within the flat tips)


def test_rotated_ellipse_on_an_anisotropic_grid() -> None:
    spacing = (0.1, 0.15)  # (row mm, col mm)
    mask = ellipse(24.0, 12.0, 6.0, 3.0, 30, shape=(240, 320), spacing=spacing)  # 12 x 6 mm, tilted 30 deg
    axes = mask_axes(mask, spacing)
    assert length_mm(axes.long_1, axes.long_2, spacing) == pytest.approx(12, abs=0.15)
    assert length_mm(axes.short_1, axes.short_2, spacing) == pytest.approx(6, abs=0.15)
    assert _cos_between(axes, spacing) < 1e-9  # perpendicular in millimetres
    assert _cos_between(axes) > 0.05  # so not in pixels


def test_small_and_split_masks() -> None:
    with pytest.raises(ValueError, match="empty"):
        mask_axes(np.zeros((10, 10), bool))
    dot = np.zeros((10, 10), bool)
    dot[4, 4] = True
    assert mask_axes(dot).long_axis_px == pytest.approx(1.0)
    two = np.zeros((40, 80), bool)
    two[10:20, 5:15] = True
    two[10:20, 60:70] = True  # the axes span both parts, as calipers across them would
    assert mask_axes(two).long_axis_px == pytest.approx(math.hypot(65, 10), abs=1)


def test_frame_rows_give_calipers_and_derived_rows_per_object() -> None:
    mask = ellipse(160, 120, 40, 20, 0)
    placed = Calipers((120.0, 120.0), (200.0, 120.0), (160.0, 100.0), (160.0, 140.0))
    derived = derived_axes({0: mask, 2: mask, 3: np.zeros_like(mask)}, (0.5, 0.5))
    assert sorted(derived) == [0, 2]  # an empty mask has no axes
    rows = measure_frame({0: placed, 1: placed}, derived, (0.5, 0.5), "a.png", 4, "a")
    assert [(r.object_id, r.method) for r in rows] == [(0, "calipers"), (0, DERIVED), (1, "calipers"), (2, DERIVED)]
    assert rows[1].long_axis_mm == pytest.approx(40, abs=0.5) and rows[1].short_axis_mm == pytest.approx(20, abs=0.5)
    assert rows[0].long_axis_mm == pytest.approx(40)


def test_simulated_calipers_stay_on_the_frame() -> None:
    mask = np.zeros((40, 60), bool)
    mask[0:30, 0:60] = True  # touches three borders: its contour runs half a pixel outside them
    assert min(np.min(mask_axes(mask).as_array()), 0) == -0.5
    ends = calipers_from_mask(mask).as_array()
    assert ends.min() >= 0 and ends[:, 0].max() <= 59 and ends[:, 1].max() <= 39
