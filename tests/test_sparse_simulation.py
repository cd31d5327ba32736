"""Simulated scribbles, boxes and points: seeded, on the right side of the mask, where the recipe puts them."""
import cv2
import numpy as np
import pytest

from core.annotation.sparse_simulation import (
    SIMULATORS,
    object_boxes,
    simulate_boxes,
    simulate_points,
    simulate_scribbles,
)
from core.training.synthetic import make_frame
from core.training.targets import sparse_targets


@pytest.fixture(scope="module")
def mask() -> np.ndarray:
    return make_frame(3, size=(128, 144), n_nodules=2).mask


@pytest.mark.parametrize("kind", sorted(SIMULATORS))
def test_simulators_are_deterministic_and_consistent_with_the_mask(kind: str, mask: np.ndarray) -> None:
    a = SIMULATORS[kind](mask, np.random.default_rng(7))
    b = SIMULATORS[kind](mask, np.random.default_rng(7))
    assert np.array_equal(a.foreground, b.foreground) and np.array_equal(a.background, b.background)
    assert a.boxes == b.boxes
    assert not (a.foreground & ~mask).any() and a.background.any()
    if kind != "boxes":  # a jittered box may cut the nodule: that label noise is part of the simulation
        assert not (a.background & mask).any()


def test_scribbles_follow_the_eroded_skeleton_and_a_ring_outside(mask: np.ndarray) -> None:
    labels = simulate_scribbles(mask, np.random.default_rng(0))
    n_objects = cv2.connectedComponents(mask.astype(np.uint8))[0] - 1
    assert cv2.connectedComponents(labels.foreground.astype(np.uint8))[0] - 1 >= n_objects
    depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    assert np.median(depth[labels.foreground]) > 3  # well inside, not on the edge
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
    assert outside[labels.background].min() > 1
    other = simulate_scribbles(mask, np.random.default_rng(1))
    assert not np.array_equal(labels.background, other.background)  # the seed picks the arc


def test_boxes_are_tight_without_jitter_and_leave_the_inside_unlabelled(mask: np.ndarray) -> None:
    labels = simulate_boxes(mask, np.random.default_rng(0), jitter=0.0)
    assert labels.boxes == object_boxes(mask) and len(labels.boxes) == 2
    for x0, y0, x1, y1 in labels.boxes:
        assert not labels.background[y0:y1 + 1, x0:x1 + 1].any()
    assert (labels.background | mask).sum() < mask.size
    jittered = simulate_boxes(mask, np.random.default_rng(0), jitter=0.1)
    assert jittered.boxes != labels.boxes


def test_box_targets_hold_a_core_of_nodule_and_the_box_as_location(mask: np.ndarray) -> None:
    labels = simulate_boxes(mask, np.random.default_rng(0), jitter=0.0)
    fg, bg, location, pseudo = sparse_targets(labels).astype(bool)
    assert fg.any() and not (fg & ~mask).any()  # the centred core lies inside these convex nodules
    assert np.array_equal(bg, labels.background) and not pseudo.any()
    x0, y0, x1, y1 = labels.boxes[0]
    assert location[y0:y1 + 1, x0:x1 + 1].all()


def test_points_sit_at_the_distance_transform_maximum(mask: np.ndarray) -> None:
    one = make_frame(5, size=(128, 144)).mask
    labels = simulate_points(one, np.random.default_rng(0), n_background=4, radius=2)
    depth = cv2.distanceTransform(np.pad(one, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    ys, xs = np.nonzero(labels.foreground)
    assert depth[int(np.mean(ys)), int(np.mean(xs))] >= depth.max() - 1.5
    assert cv2.connectedComponents(labels.background.astype(np.uint8))[0] - 1 >= 3  # discs may touch


def test_simulated_scribbles_and_boxes_come_as_strokes_too(mask: np.ndarray) -> None:
    """The strokes the app would store for the same labels (the engine starts from them): one nodule scribble per
    object, inside it, and one background scribble outside it; a box stroke per box; deterministic."""
    from core.annotation.strokes import StrokeKind, scribble_pixels

    labels = simulate_scribbles(mask, np.random.default_rng(0))
    again = simulate_scribbles(mask, np.random.default_rng(0))
    assert labels.strokes == again.strokes
    n_objects = cv2.connectedComponents(mask.astype(np.uint8))[0] - 1
    nodule = [s for s in labels.strokes if s.foreground]
    assert len(nodule) == n_objects and len(labels.strokes) == 2 * n_objects
    for stroke in labels.strokes:
        assert stroke.kind is StrokeKind.SCRIBBLE and len(stroke.points) >= 2
        drawn = scribble_pixels(stroke, mask.shape)
        inside = (drawn & mask).sum() / drawn.sum()
        assert inside > 0.95 if stroke.foreground else inside == 0.0
    boxes = simulate_boxes(mask, np.random.default_rng(0))
    assert [tuple(int(v) for v in s.box_xyxy) for s in boxes.strokes] == boxes.boxes
