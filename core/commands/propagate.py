"""`python -m core propagate`: carry one nodule through a clip (cine DICOM, multi-page TIFF, video) from its
calipers (or mask) on one frame, forward and/or backward, and write every frame's draft mask, the per-frame
confidence and the clip's measurement (the frame where the long axis is largest)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

from core.annotation.caliper_simulation import calipers_from_mask
from core.annotation.measurements import Measurement, measure, measure_clip
from core.annotation.points import Calipers
from core.cine.clip_frames import ClipFrames
from core.cine.flow import PRESETS
from core.cine.propagation import ClipPropagator, Direction, FrameTrack
from core.errors import InputError
from core.io.atomic_write import write_bytes_atomic
from core.io.mask_files import read_mask, write_mask
from core.io.measurements_csv import write_measurements_csv
from core.io.point_json import read_point_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, type=Path, help="the clip: multi-frame DICOM, multi-page TIFF or video")
    p.add_argument("--from", dest="start", required=True, type=int, help="the key frame's index (0-based)")
    key = p.add_mutually_exclusive_group(required=True)
    key.add_argument("--calipers", type=Path, help="point JSON (HCL-HRL / labelme) with the nodule's calipers there")
    key.add_argument("--mask", type=Path, help="or the nodule's accepted mask there (PNG, nonzero = nodule)")
    p.add_argument("--object", type=int, default=0, help="which nodule of the point JSON (file order)")
    p.add_argument("--out", required=True, type=Path, help="writes masks/, propagation.json, measurements.csv")
    p.add_argument("--direction", choices=[d.value for d in Direction], default=Direction.BOTH.value)
    p.add_argument("--max-frames", type=int, help="frames per direction (default: to the clip's end)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="fast", help="DIS optical flow preset")
    p.add_argument("--model", type=Path, help="frame model (model.safetensors) whose probability joins the prior")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (OpenCV and the model)")


def _key_calipers(args: argparse.Namespace, shape: tuple[int, int]) -> Calipers:
    nodules = read_point_json(args.calipers, shape)
    if not 0 <= args.object < len(nodules):
        raise InputError(args.calipers, f"has {len(nodules)} nodule(s); --object {args.object} is not one of them")
    return nodules[args.object]


def _frame_calipers(track: FrameTrack) -> Calipers:
    """The user's calipers on a key frame that has them; elsewhere the calipers of the mask itself (the warped
    caliper ends follow the tissue, not the nodule's changing longest chord)."""
    if track.key and track.calipers is not None:
        return track.calipers
    return calipers_from_mask(track.mask)


def _track_json(track: FrameTrack, calipers: Calipers) -> dict:
    return {
        "frame": track.index, "key": track.key, "source": track.source, "confidence": round(track.confidence, 4),
        "low_confidence": track.low_confidence, "scores": {k: round(v, 4) for k, v in track.scores.items()},
        "area_px": int(track.mask.sum()), "long_axis_px": round(calipers.long_axis_px, 3),
        "short_axis_px": round(calipers.short_axis_px, 3),
        "moved_calipers": None if track.calipers is None else track.calipers.as_array().round(2).tolist(),
    }


def run(args: argparse.Namespace) -> dict:
    cv2.setNumThreads(args.threads)
    frames = ClipFrames(args.input)
    if not 0 <= args.start < len(frames):
        raise InputError(args.input, f"--from {args.start} is outside the clip ({len(frames)} frames)")
    probability = None
    if args.model is not None:
        from core.runtime.predictor import Predictor  # torch only when a model is asked for

        predictor = Predictor.load(args.model, device="cpu", threads=args.threads)
        probability = lambda index: predictor.predict(frames[index])  # noqa: E731
    propagator = ClipPropagator(frames, probability, preset=args.preset)
    shape = frames[args.start].shape[:2]
    if args.calipers is not None:
        propagator.key_from_calipers(args.start, _key_calipers(args, shape))
    else:
        propagator.set_key(args.start, read_mask(args.mask, shape))

    def progress(done: int, total: int, index: int) -> None:
        print(f"[propagate] frame {index} ({done}/{total})", file=sys.stderr, flush=True)

    result = propagator.propagate(args.start, args.direction, args.max_frames, progress=progress)
    stem, spacing = args.input.stem, frames.spacing_mm
    rows: list[Measurement] = []
    per_frame: dict[int, dict[int, Calipers]] = {}
    described = []
    for index in sorted(propagator.tracks):
        track = propagator.tracks[index]
        write_mask(args.out / "masks" / f"{stem}_f{index:04d}.png", track.mask)
        calipers = _frame_calipers(track)
        per_frame[index] = {0: calipers}
        rows += measure({0: calipers}, spacing, args.input.as_posix(), index, f"{stem}_f{index:04d}")
        described.append(_track_json(track, calipers))
    clip_rows = measure_clip(per_frame, spacing, args.input.as_posix(), stem)
    write_measurements_csv(args.out / "measurements.csv", rows + clip_rows)
    directions = {1: "forward", -1: "backward"}
    summary = {
        "input": str(args.input), "key_frame": args.start, "frames": len(propagator.tracks),
        "stops": {directions[step]: why for step, why in result.stops.items()},
        "low_confidence": [t["frame"] for t in described if t["low_confidence"]],
        "largest_long_axis": None if not clip_rows else {
            "frame": clip_rows[0].frame_index, "long_axis_px": round(clip_rows[0].long_axis_px, 3),
            "short_axis_px": round(clip_rows[0].short_axis_px, 3), "long_axis_mm": clip_rows[0].long_axis_mm,
            "short_axis_mm": clip_rows[0].short_axis_mm},
        "out": str(args.out),
    }
    document = {**summary, "tracks": described}
    write_bytes_atomic(args.out / "propagation.json", json.dumps(document, indent=1).encode("utf-8"))
    return summary
