import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map
from core.annotation.points import Calipers
from core.labels.caliper_shapes import kite_ellipse
from core.labels.high_confidence import (
    box_mask,
    distance_similarity_prior,
    high_confidence_labels,
    quad_mask,
)
from core.runtime.metrics import dice
from core.training.synthetic import make_frame

DIAMOND = Calipers((10, 20), (30, 20), (20, 12), (20, 28))  # long axis horizontal, short vertical


def test_box_and_quad_geometry():
    box = box_mask((40, 40), DIAMOND)
    assert box.sum() == 21 * 17 and box[12, 10] and box[28, 30] and not box[11, 20]
    quad = quad_mask((40, 40), DIAMOND)
    assert quad[20, 20] and quad[20, 11] and not quad[13, 11]  # inside the diamond, not its box corner
    assert (quad & ~box).sum() == 0


def test_kite_passes_through_the_calipers_and_matches_an_ellipse():
    import cv2

    truth = np.zeros((80, 100), np.uint8)
    cv2.ellipse(truth, (50, 40), (30, 15), 0, 0, 360, 1, -1)
    cal = Calipers((20, 40), (80, 40), (50, 25), (50, 55))
    assert dice(kite_ellipse(truth.shape, cal, exponent=2.0), truth.astype(bool)) > 0.97


def test_distance_similarity_prior_matches_the_formula_with_i_y_x_indexing():
    img = np.zeros((64, 48), np.uint8)
    img[:, 24:] = 200  # right half bright: transposed indexing would sample the wrong intensities
    pts = np.array([[40.0, 10.0]])
    prior = distance_similarity_prior(img, pts)
    assert prior[10, 40] == pytest.approx(1.0)
    y, x = 30, 5
    d2 = ((x - 40) ** 2 + (y - 10) ** 2) / (64**2 + 48**2)
    expected = np.exp(-d2 / 0.05) * np.exp(-(200 / 255) / 0.3)
    assert prior[y, x] == pytest.approx(expected, rel=1e-4)
    assert prior.max() <= 1.0 and prior.dtype == np.float32


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_labels_of_a_synthetic_frame_are_confident_and_correct(seed):
    frame = make_frame(seed)
    labels = high_confidence_labels(frame.image, calipers_from_label_map(frame.labels))
    assert dice(labels.mask, frame.mask) > 0.9
    assert frame.mask[labels.foreground].mean() > 0.98
    assert (~frame.mask[labels.background]).mean() > 0.99
    assert not (labels.foreground & labels.background).any()
    assert np.array_equal(labels.uncertain, ~(labels.foreground | labels.background))
    encoded = labels.as_u8()
    assert set(np.unique(encoded)) <= {0, 128, 255}


def test_several_nodules_are_labelled_separately():
    frame = make_frame(4, size=(300, 360), n_nodules=2)
    cals = calipers_from_label_map(frame.labels)
    labels = high_confidence_labels(frame.image, cals)
    assert len(labels.objects) == 2
    first, second = labels.objects
    assert not (first.segment & second.segment).any()
    # the published code draws one box round all nodules; ours keeps the gap between them as background
    between = ~(first.box | second.box)
    assert (labels.background & between).sum() > 0.5 * between.sum()
    for obj in labels.objects:
        best = max(dice(obj.segment, frame.labels == k) for k in (1, 2))
        assert best > 0.9


def test_model_probability_steers_the_segmenter():
    frame = make_frame(8)
    cals = calipers_from_label_map(frame.labels)
    without = high_confidence_labels(frame.image, cals).mask
    shifted = np.zeros_like(frame.mask, dtype=np.float32)
    shifted[frame.mask] = 1.0
    shifted = np.roll(shifted, 12, axis=1)
    steered = high_confidence_labels(frame.image, cals, probability=shifted).mask
    centre_x_without = np.nonzero(without)[1].mean()
    centre_x_steered = np.nonzero(steered)[1].mean()
    assert centre_x_steered > centre_x_without + 1
