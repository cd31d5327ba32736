import cv2
import numpy as np
import pytest

from core.training.synthetic import make_frame

GAP_PX = 4  # make_frame keeps every nodule at least this far (chessboard distance) from the others


def touching_pairs(labels: np.ndarray, gap: int = 1) -> set[tuple[int, int]]:
    """Pairs of labels (k, j), k < j, whose pixels lie within `gap` px of each other (chessboard distance)."""
    kernel = np.ones((2 * gap + 1, 2 * gap + 1), np.uint8)
    pairs = set()
    for k in np.unique(labels[labels > 0]):
        near = cv2.dilate((labels == k).astype(np.uint8), kernel) > 0
        pairs |= {(int(k), int(j)) for j in np.unique(labels[near]) if j > k}
    return pairs


def test_same_seed_same_frame_and_nodules_are_darker():
    a, b = make_frame(5), make_frame(5)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.image, make_frame(6).image)
    assert a.image.dtype == np.uint8 and a.image.shape == (256, 320)
    inside = a.image[a.mask].mean()
    ring = a.image[(~a.mask) & (a.image > 0)].mean()
    assert inside < 0.8 * ring


def test_touching_pairs_sees_nodules_that_touch():
    labels = np.zeros((20, 30), np.uint8)
    labels[5:10, 5:10] = 1
    labels[10:15, 10:15] = 2  # meets nodule 1 at one corner
    labels[5:10, 20:25] = 3  # 10 px from nodule 2
    assert touching_pairs(labels) == {(1, 2)}
    assert touching_pairs(labels, gap=GAP_PX) == {(1, 2)}
    assert touching_pairs(labels, gap=10) == {(1, 2), (2, 3)}


@pytest.mark.parametrize("seed", range(8))
def test_several_nodules_are_apart_and_each_is_one_piece(seed: int):
    f = make_frame(seed, size=(300, 300), n_nodules=3)
    assert set(np.unique(f.labels)) == {0, 1, 2, 3}
    assert touching_pairs(f.labels, gap=GAP_PX) == set()
    for k in (1, 2, 3):
        pieces, _ = cv2.connectedComponents((f.labels == k).astype(np.uint8), connectivity=8)
        assert pieces == 2, f"nodule {k} is in {pieces - 1} pieces"
