import numpy as np
import pytest

from core.runtime.metrics import dice, hd95, iou, precision, recall


def squares() -> tuple[np.ndarray, np.ndarray]:
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    a[2:6, 2:6] = True  # 16 px
    b[4:8, 2:6] = True  # 16 px, 8 shared
    return a, b


def test_overlap_metrics_match_hand_computation():
    a, b = squares()
    assert dice(a, b) == pytest.approx(2 * 8 / 32)
    assert iou(a, b) == pytest.approx(8 / 24)
    assert precision(a, b) == pytest.approx(8 / 16)
    assert recall(a, np.zeros_like(b) | b[:, :]) == pytest.approx(0.5)


def test_empty_masks():
    z = np.zeros((5, 5), bool)
    assert dice(z, z) == 1.0 and iou(z, z) == 1.0 and hd95(z, z) == 0.0
    one = z.copy()
    one[2, 2] = True
    assert dice(one, z) == 0.0
    assert hd95(one, z) == float("inf")


def test_hd95_of_shifted_square_is_the_shift():
    a = np.zeros((40, 40), bool)
    a[10:20, 10:20] = True
    b = np.roll(a, 3, axis=1)
    # every boundary point of a lies within 3 px of b's boundary and vice versa; most lie exactly 0 or 3 away
    assert hd95(a, b) == pytest.approx(3.0)
    assert hd95(a, b, spacing=(0.5, 0.5)) == pytest.approx(1.5)
    assert hd95(a, a) == 0.0


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        dice(np.zeros((3, 3), bool), np.zeros((3, 4), bool))
