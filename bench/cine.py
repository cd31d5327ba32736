"""Propagation through synthetic clips made from real frames (core.cine.synthetic_clips): Dice per frame distance
from the key frame (the middle frame, its true mask accepted) with no correction, propagation frames per second,
and the clicks a simulated user needs to bring every frame to IoU >= 0.85 (core.cine.clip_benchmark).

    python bench/cine.py --data ../shared/data/ddti --split ../shared/data/ddti/splits/val.txt \\
        [--clips 20] [--length 30] [--size 600x800] [--threads 2] [--preset fast] [--flow-only]

--size resizes each still frame (and its mask) before the clip is made, to time propagation at that frame size.
The last stdout line is JSON with dice_at_10, dice_min, clicks_per_frame and frames_per_s."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.cine.clip_benchmark import run_clip, summarise  # noqa: E402
from core.cine.synthetic_clips import make_clip  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402


def _size(text: str) -> tuple[int, int]:
    height, width = (int(v) for v in text.lower().split("x"))
    return height, width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="dataset folder with images/ and masks/")
    parser.add_argument("--split", type=Path, help="stems to use (default: every frame of --data)")
    parser.add_argument("--clips", type=int, default=20, help="clips, one per frame, from the first frames listed")
    parser.add_argument("--length", type=int, default=30, help="frames per clip")
    parser.add_argument("--size", type=_size, help="HxW to resize the still frames to (e.g. 600x800)")
    parser.add_argument("--threads", type=int, default=2, help="OpenCV threads")
    parser.add_argument("--preset", default="fast", choices=("ultrafast", "fast", "medium"), help="DIS preset")
    parser.add_argument("--flow-only", action="store_true", help="baseline: the warped mask, no re-segmentation")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    items = [i for i in list_dataset(args.data, args.split) if i.mask_path is not None][: args.clips]
    runs = []
    for item in items:
        image, mask = item.frame().gray_u8(), item.mask()
        if args.size is not None:
            height, width = args.size
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
            mask = cv2.resize(mask.astype("uint8"), (width, height), interpolation=cv2.INTER_NEAREST) > 0
        clip = make_clip(image, mask, args.length, seed=len(runs))
        run = run_clip(clip, key=args.length // 2, preset=args.preset, resegment=not args.flow_only)
        runs.append(run)
        print(f"[cine] {item.stem}: {image.shape[1]}x{image.shape[0]}, {run.propagated_frames} frames in "
              f"{run.propagate_s:.2f} s, clicks {run.clicks}, min IoU after {min(run.final_ious):.3f}",
              file=sys.stderr, flush=True)
    summary = summarise(runs)
    summary.update(threads=args.threads, preset=args.preset, flow_only=args.flow_only, length=args.length,
                   load_1min=os.getloadavg()[0],
                   size=None if args.size is None else f"{args.size[0]}x{args.size[1]}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
