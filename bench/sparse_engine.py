"""The interactive engine from one sparse label on synthetic frames (core.training.synthetic.make_frame,
200 x 240, contrast 0.5): IoU against the nodule of the mask from one nodule scribble alone (through the centre
along the long axis, 60 % of the way to each end, 3 px wide), from a box 4 px round the nodule alone, and from one
click at the centre alone; and the compute time of each edit.

    python bench/sparse_engine.py [--seeds 20-29]
Last stdout line: JSON with the mean, min and max IoU and the median ms of each start."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.annotation.sparse_simulation import object_boxes  # noqa: E402
from core.annotation.strokes import Stroke, StrokeKind  # noqa: E402
from core.interactive.session import InteractionSession  # noqa: E402
from core.runtime.metrics import iou  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402


def scribble_along(mask: np.ndarray) -> Stroke:
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean(), ys.mean()
    values, vectors = np.linalg.eigh(np.cov(np.stack([xs - cx, ys - cy])))
    dx, dy = vectors[:, -1] * 1.2 * np.sqrt(values[-1])
    return Stroke(StrokeKind.SCRIBBLE, ((cx - dx, cy - dy), (cx, cy), (cx + dx, cy + dy)), True, 3.0)


def starts(mask: np.ndarray) -> dict:
    x0, y0, x1, y1 = object_boxes(mask)[0]
    ys, xs = np.nonzero(mask)
    return {
        "scribble": lambda s: s.add_scribble(scribble_along(mask)),
        "box": lambda s: s.set_box(x0 - 4, y0 - 4, x1 + 4, y1 + 4),
        "click": lambda s: s.add_click(int(round(xs.mean())), int(round(ys.mean())), True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="20-29", help="first-last synthetic frame seeds")
    args = parser.parse_args()
    first, last = (int(v) for v in args.seeds.split("-"))
    ious: dict[str, list[float]] = {}
    ms: dict[str, list[float]] = {}
    for seed in range(first, last + 1):
        frame = make_frame(seed, size=(200, 240), contrast=0.5)
        for name, start in starts(frame.mask).items():
            session = InteractionSession(frame.image)
            began = time.perf_counter()
            mask = start(session)
            ms.setdefault(name, []).append(1000 * (time.perf_counter() - began))
            ious.setdefault(name, []).append(iou(mask, frame.mask))
        print(f"seed {seed}: " + "  ".join(f"{n} {v[-1]:.3f}" for n, v in ious.items()))
    summary = {n: {"mean_iou": round(float(np.mean(v)), 3), "min_iou": round(float(np.min(v)), 3),
                   "max_iou": round(float(np.max(v)), 3), "median_ms": round(float(np.median(ms[n])), 1)}
               for n, v in ious.items()}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
