"""Crop arithmetic the click path relies on (overlaps of click windows, crops and cached prior regions)."""
import numpy as np

from core.labels.crop import Crop


def test_intersection_and_indexing_within_an_outer_crop() -> None:
    frame = np.arange(100 * 120).reshape(100, 120)
    a, b = Crop(10, 50, 20, 80), Crop(30, 90, 60, 110)
    common = a.intersection(b)
    assert common == Crop(30, 50, 60, 80)
    assert np.array_equal(a.take(frame)[common.within(a)], common.take(frame))
    assert np.array_equal(b.take(frame)[common.within(b)], common.take(frame))
    assert a.intersection(Crop(50, 60, 20, 80)) is None  # touching edges share no pixel
