"""Propagation through a clip: the flow warp, key frames and re-propagation, cancel, the confidence stop and the
synthetic clips the benchmark uses."""
import threading

import cv2
import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_mask
from core.cine.flow import DenseFlow, move_points, warp_mask
from core.cine.propagation import ClipPropagator, Direction
from core.cine.synthetic_clips import make_clip
from core.runtime.metrics import dice
from core.training.synthetic import make_frame

SHIFT = (6, -4)  # (dx, dy) px


def _textured_frame_with_nodule(shape=(200, 240), seed=3):
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.normal(size=shape).astype(np.float32), (0, 0), 2.0)
    image = 120 + 40 * texture / texture.std()
    mask = np.zeros(shape, np.uint8)
    cv2.ellipse(mask, (120, 100), (30, 20), 20, 0, 360, 1, -1)
    image[mask > 0] -= 50
    return np.clip(image, 0, 255).astype(np.uint8), mask.astype(bool)


def _shifted(array: np.ndarray) -> np.ndarray:
    return np.roll(array, (SHIFT[1], SHIFT[0]), axis=(0, 1))


def _within_one_pixel(moved: np.ndarray, truth: np.ndarray) -> bool:
    kernel = np.ones((3, 3), np.uint8)
    grown = cv2.dilate(truth.astype(np.uint8), kernel) > 0
    shrunk = cv2.erode(truth.astype(np.uint8), kernel) > 0
    return bool((moved <= grown).all() and (shrunk <= moved).all())


def test_flow_warp_moves_a_nodule_by_a_known_shift_within_one_pixel() -> None:
    image, mask = _textured_frame_with_nodule()
    moved_image, truth = _shifted(image), _shifted(mask)
    flow = DenseFlow("medium")
    forward, backward = flow.between(image, moved_image), flow.between(moved_image, image)
    assert _within_one_pixel(warp_mask(mask, backward), truth)
    ends = calipers_from_mask(mask).as_array()
    assert np.abs(move_points(ends, forward) - (ends + SHIFT)).max() <= 1.0


@pytest.fixture(scope="module")
def clip():
    still = make_frame(5, size=(200, 260))
    return make_clip(still.image, still.mask, 20, seed=7)


def test_propagation_follows_the_nodule_through_a_clip(clip) -> None:
    propagator = ClipPropagator(clip.frames)
    propagator.set_key(10, clip.masks[10])
    run = propagator.propagate(10, Direction.BOTH)
    assert sorted(run.frames) == [i for i in range(20) if i != 10]
    assert run.stops == {1: "end", -1: "end"}
    assert min(dice(propagator.tracks[i].mask, clip.masks[i]) for i in run.frames) > 0.85
    assert propagator.drafts == sorted(run.frames) and propagator.key_frames == [10]


def test_propagation_stops_at_max_frames_and_before_the_next_key_frame(clip) -> None:
    propagator = ClipPropagator(clip.frames)
    propagator.set_key(4, clip.masks[4])
    propagator.set_key(8, clip.masks[8])
    run = propagator.propagate(4, Direction.BOTH, max_frames=3)
    assert run.frames == [5, 6, 7, 3, 2, 1]
    assert run.stops == {1: "key", -1: "limit"}


def test_a_correction_re_keys_and_re_propagates_only_up_to_the_next_key_frame(clip) -> None:
    propagator = ClipPropagator(clip.frames)
    propagator.set_key(0, clip.masks[0])
    propagator.propagate(0, Direction.FORWARD)
    propagator.correct(14, clip.masks[14])
    assert propagator.key_frames == [0, 14]
    assert {i: propagator.tracks[i].source for i in (7, 8, 13, 15, 19)} == {7: 0, 8: 14, 13: 14, 15: 14, 19: 14}
    before = dict(propagator.tracks)
    run = propagator.correct(5, clip.masks[5])
    # drafts nearer to frame 5 than to their own key frame, on both sides; nothing at or past key frames 0 and 14
    assert run.frames == [6, 7, 8, 9, 4, 3]
    assert propagator.key_frames == [0, 5, 14]
    unchanged = [i for i in range(20) if i not in (*run.frames, 5)]
    assert all(propagator.tracks[i] is before[i] for i in unchanged)
    assert all(propagator.tracks[i].source == 5 for i in run.frames)


def test_cancel_leaves_drafts_of_finished_frames_only(clip) -> None:
    propagator = ClipPropagator(clip.frames)
    propagator.set_key(10, clip.masks[10])
    cancel = threading.Event()
    seen = []

    def progress(done: int, total: int, index: int) -> None:
        seen.append((done, total, index))
        if done == 3:
            cancel.set()

    run = propagator.propagate(10, Direction.BOTH, cancel=cancel, progress=progress)
    assert run.frames == [11, 12, 13] and run.stops[1] == "cancelled"
    assert propagator.drafts == [11, 12, 13]
    assert seen == [(1, 19, 11), (2, 19, 12), (3, 19, 13)]


def test_propagation_stops_at_a_frame_that_needs_a_look(clip) -> None:
    frames = list(clip.frames)
    rng = np.random.default_rng(0)
    frames[15] = np.clip(rng.normal(128, 40, frames[15].shape), 0, 255).astype(np.uint8)  # the probe lifted off
    propagator = ClipPropagator(frames)
    propagator.set_key(10, clip.masks[10])
    run = propagator.propagate(10, Direction.FORWARD)
    assert run.stops[1] in ("confidence", "lost")
    assert max(run.frames) <= 15
    assert all(not propagator.tracks[i].low_confidence for i in run.frames if i < 15)


def test_calipers_travel_with_the_nodule(clip) -> None:
    propagator = ClipPropagator(clip.frames)
    propagator.key_from_calipers(10, calipers_from_mask(clip.masks[10]))
    propagator.propagate(10, Direction.FORWARD, max_frames=5)
    track = propagator.tracks[15]
    truth = calipers_from_mask(clip.masks[15])
    assert track.calipers is not None
    assert abs(track.calipers.long_axis_px - truth.long_axis_px) < 0.15 * truth.long_axis_px
    centre = track.calipers.as_array().mean(axis=0)
    assert np.linalg.norm(centre - truth.as_array().mean(axis=0)) < 5.0


def test_clip_synthesis_is_deterministic_for_a_seed() -> None:
    still = make_frame(2, size=(120, 150))
    first, again = make_clip(still.image, still.mask, 6, seed=11), make_clip(still.image, still.mask, 6, seed=11)
    other = make_clip(still.image, still.mask, 6, seed=12)
    assert all(np.array_equal(a, b) for a, b in zip(first.frames, again.frames))
    assert all(np.array_equal(a, b) for a, b in zip(first.masks, again.masks))
    assert not all(np.array_equal(a, b) for a, b in zip(first.frames, other.frames))
    assert not np.array_equal(first.frames[0], first.frames[1])  # it moves (and the speckle is fresh)
    areas = [m.sum() for m in first.masks]
    assert min(areas) > 0.8 * still.mask.sum() and max(areas) < 1.2 * still.mask.sum()


def test_the_flow_only_baseline_keeps_the_warped_mask(clip) -> None:
    propagator = ClipPropagator(clip.frames, resegment=False)
    propagator.set_key(10, clip.masks[10])
    run = propagator.propagate(10, Direction.FORWARD, max_frames=3)
    assert all(np.array_equal(propagator.tracks[i].mask, propagator.tracks[i].prior) for i in run.frames)
