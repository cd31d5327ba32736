import cv2
import numpy as np
import pytest
from scipy import ndimage

from core.labels.morphology import distance_to_background, fill_holes


def _masks():
    rng = np.random.default_rng(0)
    for seed in range(4):
        mask = np.zeros((90, 130), np.uint8)
        cv2.ellipse(mask, (60 + seed * 5, 45), (50, 25), 20 * seed, 0, 360, 1, -1)
        mask[rng.integers(0, 90, 40), rng.integers(0, 130, 40)] ^= 1  # speckles and pin holes
        mask[:, :3] = seed % 2  # touching the border or not
        yield mask.astype(bool)


@pytest.mark.parametrize("mask", list(_masks()))
def test_same_results_as_scipy(mask) -> None:
    np.testing.assert_allclose(distance_to_background(mask), ndimage.distance_transform_edt(mask), atol=1e-4)
    np.testing.assert_allclose(distance_to_background(~mask), ndimage.distance_transform_edt(~mask), atol=1e-4)
    assert np.array_equal(fill_holes(mask), ndimage.binary_fill_holes(mask))


def test_a_closed_ring_is_filled_and_a_broken_one_is_not() -> None:
    ring = np.zeros((20, 20), np.uint8)
    cv2.circle(ring, (10, 10), 6, 1, 1)
    assert fill_holes(ring.astype(bool))[10, 10]
    ring[8:13, 14:20] = 0  # a gap in the ring's right side
    assert not fill_holes(ring.astype(bool))[10, 10]
