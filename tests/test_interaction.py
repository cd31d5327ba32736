import threading

import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map
from core.interactive.clicks_benchmark import run_frame, summarise
from core.interactive.live_engine import LiveEngine
from core.interactive.session import InteractionSession
from core.runtime.metrics import iou
from core.training.synthetic import make_frame


@pytest.fixture(scope="module")
def frame():
    return make_frame(11, size=(240, 300))


def test_calipers_give_a_good_mask_at_once(frame):
    session = InteractionSession(frame.image)
    mask = session.set_calipers(calipers_from_label_map(frame.labels)[0])
    assert iou(mask, frame.mask) > 0.85


def test_clicks_are_hard_constraints(frame):
    session = InteractionSession(frame.image)
    session.set_calipers(calipers_from_label_map(frame.labels)[0])
    ys, xs = np.nonzero(frame.mask)
    inside = (int(xs.mean()), int(ys.mean()))
    mask = session.add_click(*inside, positive=False)
    assert not mask[inside[1], inside[0]]
    mask = session.add_click(20, 20, positive=True)
    assert mask[20, 20]


def test_a_negative_click_changes_the_mask_locally_not_everywhere(frame):
    session = InteractionSession(frame.image)
    before = session.set_calipers(calipers_from_label_map(frame.labels)[0])
    ys, xs = np.nonzero(before)
    edge_x = int(xs.max()) - 2
    edge_y = int(ys[xs == xs.max()][0])
    after = session.add_click(edge_x, edge_y, positive=False)
    changed = before ^ after
    assert changed.any()
    assert changed.sum() < 0.25 * before.sum()
    far = np.zeros_like(before)
    far[:, : int(xs.min()) + 10] = True  # the far side of the nodule keeps its boundary
    assert not (changed & far).any()


def test_undo_restores_the_exact_previous_mask_and_redo_reapplies(frame):
    session = InteractionSession(frame.image)
    first = session.set_calipers(calipers_from_label_map(frame.labels)[0]).copy()
    second = session.add_click(30, 30, positive=True).copy()
    assert not np.array_equal(first, second)
    assert np.array_equal(session.undo(), first)
    assert np.array_equal(session.redo(), second)
    session.undo()
    session.undo()
    assert not session.mask.any() and session.calipers is None
    assert not session.reset().any()


def test_click_outside_the_frame_is_refused(frame):
    with pytest.raises(ValueError, match="outside"):
        InteractionSession(frame.image).add_click(-1, 5, positive=True)


def test_model_probability_is_the_starting_mask_and_is_kept_away_from_clicks(frame):
    probability = frame.mask.astype(np.float32) * 0.9 + 0.05
    session = InteractionSession(frame.image, probability)
    assert np.array_equal(session.mask, frame.mask)
    mask = session.add_click(10, 200, positive=False)  # far from the nodule: nothing to remove there
    assert iou(mask, frame.mask) > 0.97


def test_calipers_reaching_past_the_frame_edge_with_a_model(frame):
    """Jittered or dragged caliper ends may lie outside the frame: the engine must still answer."""
    from core.annotation.points import Calipers

    h, w = frame.mask.shape
    probability = frame.mask.astype(np.float32) * 0.9 + 0.05
    exact = calipers_from_label_map(frame.labels)[0].as_array()
    beyond = exact.copy()
    beyond[0] = (w + 3.0, h + 2.0)  # one long-axis end past the bottom-right corner
    mask = InteractionSession(frame.image, probability).set_calipers(Calipers.from_array(beyond))
    assert mask.shape == (h, w) and mask.any()


def test_robot_user_reaches_high_iou_with_few_clicks(frame):
    run = run_frame(frame.image, frame.mask, "calipers", 20, 0.0, np.random.default_rng(0))
    summary = summarise([run], 20)
    assert summary["noc85"] <= 6
    assert run.ious[3] > 0.85  # right after the four calipers


def test_live_engine_reports_only_the_latest_edit(frame):
    session = InteractionSession(frame.image)
    session.set_calipers(calipers_from_label_map(frame.labels)[0])
    results = []
    entered, gate = threading.Event(), threading.Event()

    def slow_first(s):
        entered.set()
        gate.wait(5)
        return s.add_click(40, 40, positive=True)

    engine = LiveEngine(results.append)
    try:
        engine.submit(session, slow_first)
        assert entered.wait(5)  # the worker is now blocked inside the first edit
        engine.submit(session, lambda s: s.add_click(50, 50, positive=True))
        last = engine.submit(session, lambda s: s.add_click(60, 60, positive=False))
        gate.set()
        assert engine.wait_idle(10)
    finally:
        engine.stop()
    assert [r.request_id for r in results] == [last]  # the stale first edit's mask was never reported
    assert len(session.clicks) == 3  # but no click was lost
    assert results[0].mask[40, 40] and results[0].mask[50, 50] and not results[0].mask[60, 60]
