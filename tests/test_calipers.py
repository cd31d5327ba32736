import cv2
import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map, calipers_from_mask, jitter_calipers
from core.training.synthetic import make_frame


def ellipse_mask(cx=60, cy=50, a=30, b=15, angle_deg=0.0, shape=(100, 130)) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.ellipse(m, (cx, cy), (a, b), angle_deg, 0, 360, 1, -1)
    return m.astype(bool)


def test_axis_aligned_ellipse_gives_its_axes():
    cal = calipers_from_mask(ellipse_mask())
    assert cal.long_axis_px == pytest.approx(60, abs=1.5)
    assert cal.short_axis_px == pytest.approx(30, abs=1.5)
    ends = sorted([cal.long_1, cal.long_2])
    # the ellipse's tips are short flat runs of pixels: any pair across them is a farthest pair
    assert ends[0] == pytest.approx((30, 50), abs=4.0) and ends[1] == pytest.approx((90, 50), abs=4.0)


def test_short_axis_is_perpendicular_to_long_axis_for_a_tilted_nodule():
    cal = calipers_from_mask(ellipse_mask(angle_deg=35))
    p = cal.as_array()
    long_dir, short_dir = p[1] - p[0], p[3] - p[2]
    cos = abs(long_dir @ short_dir) / (np.linalg.norm(long_dir) * np.linalg.norm(short_dir))
    assert cos < 0.05
    assert cal.long_axis_px == pytest.approx(60, abs=2)
    assert cal.short_axis_px == pytest.approx(30, abs=2)


def test_one_caliper_set_per_nodule_largest_first():
    frame = make_frame(2, n_nodules=3)
    cals = calipers_from_label_map(frame.labels)
    assert len(cals) == 3
    assert cals[0].long_axis_px >= cals[1].long_axis_px >= cals[2].long_axis_px * 0.5
    # each caliper end lies on (or next to) its own nodule
    dilated = cv2.dilate(frame.mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    for cal in cals:
        for x, y in cal.as_array():
            assert dilated[int(round(y)), int(round(x))]


def test_jitter_is_seeded_and_of_the_requested_size():
    cal = calipers_from_mask(ellipse_mask())
    a = jitter_calipers(cal, 3.0, np.random.default_rng(7))
    b = jitter_calipers(cal, 3.0, np.random.default_rng(7))
    assert a == b
    moves = [jitter_calipers(cal, 3.0, np.random.default_rng(s)).as_array() - cal.as_array() for s in range(200)]
    assert np.std(np.concatenate(moves)) == pytest.approx(3.0, rel=0.1)
    assert jitter_calipers(cal, 0.0, np.random.default_rng(1)) == cal
