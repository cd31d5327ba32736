"""The interactive engine fed scribbles, boxes and single points: scribble pixels are hard seeds, a background
scribble across a leak cuts it off, a box alone or a scribble alone gives a good mask, each is one undo step,
and a session catches up with stored strokes in one computation. Synthetic frames, headless."""
from __future__ import annotations

import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map
from core.annotation.points import CALIPER_ORDER, Point, PointKind
from core.annotation.sparse_simulation import object_boxes
from core.annotation.strokes import Stroke, StrokeKind, scribble_pixels
from core.interactive.engine_state import EngineState, bring_up_to_date
from core.interactive.session import InteractionSession
from core.runtime.metrics import iou
from core.training.synthetic import make_frame


def _leaky_frame() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dark round nodule with a dark duct of the same echo touching it on the right: a click on the nodule
    flows into the duct."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:120, 0:160]
    nodule = (xx - 55) ** 2 + (yy - 60) ** 2 <= 22**2
    duct = (xx >= 70) & (xx <= 130) & (yy >= 50) & (yy <= 70) & ~nodule
    image = np.full(nodule.shape, 170.0)
    image[nodule | duct] = 60
    image += rng.normal(0, 8, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), nodule, duct


def _scribble_along(mask: np.ndarray, foreground: bool = True) -> Stroke:
    """A stroke through the object's centre along its long axis, 60 % of the way to its ends each side."""
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean(), ys.mean()
    values, vectors = np.linalg.eigh(np.cov(np.stack([xs - cx, ys - cy])))
    dx, dy = vectors[:, -1] * 1.2 * np.sqrt(values[-1])
    return Stroke(StrokeKind.SCRIBBLE, ((cx - dx, cy - dy), (cx, cy), (cx + dx, cy + dy)), foreground, 3.0)


def test_a_background_scribble_across_a_leak_removes_it() -> None:
    image, nodule, duct = _leaky_frame()
    session = InteractionSession(image)
    leaked = session.add_click(55, 60, True)
    assert (leaked & duct).sum() > 0.3 * duct.sum()  # the premise: the click alone leaks into the duct
    across = Stroke(StrokeKind.SCRIBBLE, ((82.0, 40.0), (82.0, 80.0)), foreground=False, width=3.0)
    cut = session.add_scribble(across)
    assert not (cut & duct & (np.mgrid[0:120, 0:160][1] > 82)).any()  # nothing beyond the scribble is left
    assert (cut & duct).sum() < 0.1 * duct.sum()
    assert iou(cut, nodule) > iou(leaked, nodule) + 0.05 and iou(cut, nodule) > 0.7
    np.testing.assert_array_equal(session.undo(), leaked)  # one undo step
    assert session.scribbles == ()


def test_scribble_pixels_are_hard_seeds() -> None:
    image, nodule, _ = _leaky_frame()
    session = InteractionSession(image)
    inside = Stroke(StrokeKind.SCRIBBLE, ((40.0, 60.0), (65.0, 62.0)), foreground=True, width=5.0)
    # a background stroke across the nodule's middle, which everything else says is nodule
    across = Stroke(StrokeKind.SCRIBBLE, ((55.0, 45.0), (55.0, 75.0)), foreground=False, width=3.0)
    session.add_scribble(inside)
    mask = session.add_scribble(across)
    background = scribble_pixels(across, image.shape) & ~scribble_pixels(inside, image.shape)
    assert not (mask & background).any()
    assert mask[scribble_pixels(inside, image.shape)].all()  # nodule seeds win where the two cross


@pytest.mark.parametrize("seed", [20, 21, 22])
def test_a_nodule_scribble_alone_grows_into_its_nodule(seed: int) -> None:
    frame = make_frame(seed, size=(200, 240), contrast=0.5)
    mask = InteractionSession(frame.image).add_scribble(_scribble_along(frame.mask))
    assert iou(mask, frame.mask) >= 0.75  # 0.79 to 0.92 on seeds 20-29 (constants set on seeds 0-7)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_stored_box_alone_gives_a_mask_inside_it(seed: int) -> None:
    frame = make_frame(seed, size=(200, 240), contrast=0.5)
    x0, y0, x1, y1 = object_boxes(frame.mask)[0]
    drawn = Stroke(StrokeKind.BOX, ((x1 + 4.0, y1 + 4.0), (x0 - 4.0, y0 - 4.0)))  # dragged bottom-right first
    session = InteractionSession(frame.image)
    mask = bring_up_to_date(session, EngineState().with_box(drawn, frame.image.shape))
    assert session.box == (x0 - 4, y0 - 4, x1 + 4, y1 + 4)
    outside = np.ones(mask.shape, bool)
    outside[y0 - 4:y1 + 5, x0 - 4:x1 + 5] = False
    assert not (mask & outside).any()
    assert iou(mask, frame.mask) >= 0.65  # 0.69 to 0.85 on seeds 0-7


def test_a_single_point_starts_an_object() -> None:
    image, nodule, duct = _leaky_frame()
    mask = InteractionSession(image).add_click(50, 60, True)
    assert mask[60, 50] and (mask & nodule).sum() > 0.9 * nodule.sum()


def test_the_state_of_stored_strokes_and_catching_up_in_one_computation() -> None:
    image, nodule, _ = _leaky_frame()
    first = Stroke(StrokeKind.SCRIBBLE, ((40.0, 60.0), (65.0, 62.0)), True, 3.0, object_id=0)
    second = Stroke(StrokeKind.SCRIBBLE, ((82.0, 40.0), (82.0, 80.0)), False, 3.0, object_id=0)
    box = Stroke(StrokeKind.BOX, ((20.0, 30.0), (90.0, 95.0)), object_id=0)
    other = Stroke(StrokeKind.SCRIBBLE, ((5.0, 5.0), (9.0, 9.0)), True, 3.0, object_id=1)
    strokes = [(9, second), (4, first), (6, box), (2, other)]
    points = [(1, Point(50.0, 60.0, PointKind.FOREGROUND, 0))]
    state = EngineState.from_labels(points, strokes, 0, image.shape)
    assert state.scribbles == (first, second) and state.box == (20, 30, 90, 95) and len(state.clicks) == 1
    assert EngineState.from_labels([], strokes, 1, image.shape) == EngineState(scribbles=(other,))

    session = InteractionSession(image)
    bring_up_to_date(session, EngineState(box=state.box, clicks=state.clicks, scribbles=(first,)))
    computed = []
    original = session._compute
    session._compute = lambda *args, **kwargs: computed.append(1) or original(*args, **kwargs)
    mask = bring_up_to_date(session, state)
    assert len(computed) == 1 and EngineState.of_session(session) == state
    direct = InteractionSession(image)
    direct.set_box(*state.box)
    direct.add_click(50, 60, True)
    direct.add_scribble(first)
    np.testing.assert_array_equal(mask, direct.add_scribble(second))
    np.testing.assert_array_equal(bring_up_to_date(session, EngineState()), np.zeros(image.shape, bool))


def test_calipers_outrank_a_stored_box() -> None:
    frame = make_frame(3, size=(120, 150))
    calipers = calipers_from_label_map(frame.labels)[0]
    points = [(i, Point(float(x), float(y), kind, 0))
              for i, (kind, (x, y)) in enumerate(zip(CALIPER_ORDER, calipers.as_array(), strict=True))]
    box = Stroke(StrokeKind.BOX, ((10.0, 10.0), (60.0, 60.0)))
    state = EngineState.from_labels(points, [(1, box)], 0, frame.image.shape)
    assert state.box is None and state.calipers is not None


def test_what_the_engine_refuses() -> None:
    image, _, _ = _leaky_frame()
    session = InteractionSession(image)
    with pytest.raises(ValueError, match="outside"):
        session.add_scribble(Stroke(StrokeKind.SCRIBBLE, ((500.0, 500.0), (510.0, 505.0))))
    with pytest.raises(ValueError, match="expected a scribble"):
        session.add_scribble(Stroke(StrokeKind.BOX, ((10.0, 10.0), (50.0, 50.0))))
    with pytest.raises(ValueError, match="too small"):
        EngineState().with_box(Stroke(StrokeKind.BOX, ((10.0, 10.0), (11.0, 50.0))), image.shape)
    assert session.scribbles == () and not session.mask.any()
