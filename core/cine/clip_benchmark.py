"""Propagation measured on a clip whose truth is known (core.cine.synthetic_clips): Dice per frame distance from
the key frame with no correction, propagation speed, and the clicks a simulated (RITM) user needs so that every
frame ends at IoU >= TARGET_IOU.

The user's protocol: after propagating both ways from the key frame, look at the frame nearest the key frames
that is below target; click on it (robot_user.next_click, at most MAX_CLICKS_PER_FRAME) and let the correction
re-key and re-propagate; where propagation stopped at a low-confidence frame that is fine, confirm it (a key
frame, no click) and propagate on. Repeat until every frame is at target."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from core.cine.propagation import ClipPropagator, Direction
from core.cine.synthetic_clips import SyntheticClip
from core.interactive.robot_user import next_click
from core.runtime.metrics import dice, iou

TARGET_IOU = 0.85
MAX_CLICKS_PER_FRAME = 5


@dataclass
class ClipRun:
    dice_by_distance: dict[int, list[float]] = field(default_factory=dict)  # no correction
    propagated_frames: int = 0
    propagate_s: float = 0.0
    clicks: int = 0
    confirmations: int = 0  # low-confidence stops confirmed without a click
    corrected_frames: int = 0
    final_ious: list[float] = field(default_factory=list)  # every frame, after the user's corrections


def _below_target(propagator: ClipPropagator, clip: SyntheticClip) -> list[int]:
    return [i for i in range(len(clip.frames)) if i not in propagator.tracks
            or (not propagator.tracks[i].key and iou(propagator.tracks[i].mask, clip.masks[i]) < TARGET_IOU)]


def _nearest_key_distance(propagator: ClipPropagator, index: int) -> int:
    return min(abs(index - k) for k in propagator.key_frames)


def _click_until_good(propagator: ClipPropagator, clip: SyntheticClip, index: int) -> tuple[np.ndarray, int]:
    session = propagator.session_for(index)
    truth, mask = clip.masks[index], session.mask
    clicked = np.zeros(truth.shape, bool)
    clicks = 0
    while clicks < MAX_CLICKS_PER_FRAME and iou(mask, truth) < TARGET_IOU:
        click = next_click(truth, mask, clicked)
        if click is None:
            break
        clicked[click.y, click.x] = True
        mask = session.add_click(click.x, click.y, click.positive)
        clicks += 1
    return mask, clicks


def run_clip(clip: SyntheticClip, key: int, preset: str = "fast", resegment: bool = True) -> ClipRun:
    """Propagate from the true mask of frame `key` (an accepted mask), then correct as the simulated user."""
    result = ClipRun()
    propagator = ClipPropagator(clip.frames, preset=preset, resegment=resegment)
    propagator.set_key(key, clip.masks[key])
    start = time.perf_counter()
    run = propagator.propagate(key, Direction.BOTH)
    result.propagate_s = time.perf_counter() - start
    result.propagated_frames = len(run.frames)
    for i in run.frames:
        result.dice_by_distance.setdefault(abs(i - key), []).append(dice(propagator.tracks[i].mask, clip.masks[i]))
    for _ in range(2 * len(clip.frames)):  # each round keys one frame, so this always ends
        below = _below_target(propagator, clip)
        if not below:
            break
        index = min(below, key=lambda i: (_nearest_key_distance(propagator, i), i))
        if index in propagator.tracks:
            mask, clicks = _click_until_good(propagator, clip, index)
            result.clicks += clicks
            result.corrected_frames += 1
            propagator.correct(index, mask)
            continue
        # propagation stopped before this frame: confirm the last frame it reached and go on from there
        step = 1 if any(k < index for k in propagator.key_frames) and (index - 1) in propagator.tracks else -1
        reached = index - step
        if not propagator.tracks[reached].key:
            result.confirmations += 1
            propagator.correct(reached, propagator.tracks[reached].mask)
        propagator.propagate(reached, Direction.FORWARD if step == 1 else Direction.BACKWARD)
    result.final_ious = [iou(propagator.tracks[i].mask, clip.masks[i]) if i in propagator.tracks else 0.0
                         for i in range(len(clip.frames))]
    return result


def summarise(runs: list[ClipRun]) -> dict:
    """Mean Dice per distance, the figures the issue asks for, and the user's effort."""
    by_distance: dict[int, list[float]] = {}
    for r in runs:
        for d, values in r.dice_by_distance.items():
            by_distance.setdefault(d, []).extend(values)
    frames = sum(len(r.final_ious) - 1 for r in runs)  # the key frame of each clip needs no work
    seconds = sum(r.propagate_s for r in runs)
    all_dice = [v for values in by_distance.values() for v in values]
    final = [v for r in runs for v in r.final_ious]
    return {
        "clips": len(runs),
        "dice_by_distance": {d: round(float(np.mean(v)), 4) for d, v in sorted(by_distance.items())},
        "dice_at_10": round(float(np.mean(by_distance[10])), 4) if 10 in by_distance else None,
        "dice_min": round(float(min(all_dice)), 4) if all_dice else None,
        "clicks_per_frame": round(sum(r.clicks for r in runs) / max(frames, 1), 4),
        "confirmations_per_frame": round(sum(r.confirmations for r in runs) / max(frames, 1), 4),
        "corrected_frames": sum(r.corrected_frames for r in runs),
        "final_iou_min": round(float(min(final)), 4) if final else None,
        "frames_below_target_at_end": int(sum(v < TARGET_IOU for v in final)),
        "frames_per_s": round(sum(r.propagated_frames for r in runs) / seconds, 2) if seconds > 0 else None,
    }
