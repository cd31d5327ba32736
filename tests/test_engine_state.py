"""Bringing an interactive session up to date with the stored points of an object: the fewest engine steps, and
always the same mask as a session that made exactly those edits. Headless."""
from __future__ import annotations

import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map
from core.annotation.clicks import Click
from core.annotation.points import CALIPER_ORDER, Point, PointKind
from core.interactive.engine_state import EngineState, bring_up_to_date
from core.interactive.session import InteractionSession
from core.training.synthetic import make_frame


@pytest.fixture(scope="module")
def frame():
    return make_frame(5, size=(120, 150))


class CountingSession(InteractionSession):
    """Counts the engine computations (each one is a mask computed from the object's inputs)."""

    computations = 0

    def _compute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.computations += 1
        return super()._compute(*args, **kwargs)


def _made_directly(image: np.ndarray, state: EngineState) -> np.ndarray:
    session = InteractionSession(image)
    mask = session.mask
    if state.calipers is not None:
        mask = session.set_calipers(state.calipers)
    for click in state.clicks:
        mask = session.add_click(click.x, click.y, click.positive)
    return mask


def test_stored_points_give_the_objects_calipers_and_clicks_in_order(frame) -> None:
    calipers = calipers_from_label_map(frame.labels)[0]
    ends = dict(zip(CALIPER_ORDER, calipers.as_array(), strict=True))
    points = [(7, Point(60.4, 40.6, PointKind.FOREGROUND, 0)), (3, Point(10.0, 12.0, PointKind.BACKGROUND, 0)),
              (9, Point(5.0, 5.0, PointKind.FOREGROUND, 1))]
    points += [(20 + i, Point(float(x), float(y), kind, 0)) for i, (kind, (x, y)) in enumerate(ends.items())]
    state = EngineState.from_points(points, 0)
    assert state.calipers is not None and np.allclose(state.calipers.as_array(), calipers.as_array())
    assert state.clicks == (Click(10, 12, False), Click(60, 41, True))  # by point id, rounded
    assert EngineState.from_points(points, 1) == EngineState(None, (Click(5, 5, True),))
    assert EngineState.from_points(points, 2).empty
    incomplete = [(pid, p) for pid, p in points if p.kind != PointKind.SHORT_2]
    assert EngineState.from_points(incomplete, 0).calipers is None


def test_one_step_behind_takes_one_step(frame) -> None:
    calipers = calipers_from_label_map(frame.labels)[0]
    session = CountingSession(frame.image)
    start = EngineState(calipers)
    bring_up_to_date(session, start)
    ys, xs = np.nonzero(frame.labels)
    end = start.with_click(float(xs.mean()), float(ys.mean()), True)
    before = session.computations
    mask = bring_up_to_date(session, end)
    assert session.computations - before == 1
    assert EngineState.of_session(session) == end
    np.testing.assert_array_equal(mask, _made_directly(frame.image, end))
    before = session.computations
    np.testing.assert_array_equal(bring_up_to_date(session, end), mask)  # already there: nothing computed
    assert session.computations == before


def test_one_step_off_undoes_and_takes_one_step(frame) -> None:
    calipers = calipers_from_label_map(frame.labels)[0]
    session = CountingSession(frame.image)
    base = EngineState(calipers)
    bring_up_to_date(session, base.with_click(20, 20, False))
    other = base.with_click(30, 25, False)  # the last click undone and another made instead
    before = session.computations
    mask = bring_up_to_date(session, other)
    assert session.computations - before == 1
    np.testing.assert_array_equal(mask, _made_directly(frame.image, other))


def test_anything_else_is_replayed_from_scratch(frame) -> None:
    calipers = calipers_from_label_map(frame.labels)[0]
    session = CountingSession(frame.image)
    bring_up_to_date(session, EngineState(None, (Click(70, 50, True), Click(10, 10, False))))
    target = EngineState(calipers, (Click(40, 40, False),))
    mask = bring_up_to_date(session, target)
    assert EngineState.of_session(session) == target
    np.testing.assert_array_equal(mask, _made_directly(frame.image, target))
    np.testing.assert_array_equal(bring_up_to_date(session, EngineState()), np.zeros(frame.image.shape, bool))
