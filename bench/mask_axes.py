"""Accuracy and time of the axes derived from a mask (core.annotation.mask_axes) on seeded random ellipses whose
axes are known: semi-axes a in [15, 150] px, b in [0.3 a, a], any angle, sub-pixel centre, rasterised by pixel
centre. Prints the error of the long axis against 2a and of the short axis against 2b (median, 95th percentile,
max, in px), and the median and 95th percentile time per mask. --spacing measures on an anisotropic grid instead
(the ellipse defined in mm, errors in mm).

    python bench/mask_axes.py [--n 300] [--seed 0] [--spacing ROW_MM COL_MM]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.annotation.mask_axes import mask_axes  # noqa: E402
from core.annotation.measurements import length_mm  # noqa: E402


def _ellipse(rng: np.random.Generator, spacing: tuple[float, float]) -> tuple[np.ndarray, float, float]:
    unit = min(spacing)
    a = rng.uniform(15, 150) * unit
    b = rng.uniform(0.3, 1.0) * a
    angle = rng.uniform(0, math.pi)
    height, width = (int(2 * a / s) + 12 for s in spacing)
    cy, cx = (height / 2 + rng.uniform(-0.5, 0.5)) * spacing[0], (width / 2 + rng.uniform(-0.5, 0.5)) * spacing[1]
    rows, cols = np.mgrid[:height, :width].astype(float)
    x, y = cols * spacing[1] - cx, rows * spacing[0] - cy
    u = x * math.cos(angle) + y * math.sin(angle)
    v = -x * math.sin(angle) + y * math.cos(angle)
    return (u / a) ** 2 + (v / b) ** 2 <= 1, 2 * a, 2 * b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--spacing", type=float, nargs=2, default=None, metavar=("ROW_MM", "COL_MM"))
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    spacing = tuple(args.spacing) if args.spacing else None
    grid = spacing or (1.0, 1.0)
    long_err, short_err, times = [], [], []
    for _ in range(args.n):
        mask, long_true, short_true = _ellipse(rng, grid)
        start = time.perf_counter()
        axes = mask_axes(mask, spacing)
        times.append(time.perf_counter() - start)
        long_err.append(length_mm(axes.long_1, axes.long_2, grid) - long_true)
        short_err.append(length_mm(axes.short_1, axes.short_2, grid) - short_true)
    unit = "mm" if spacing else "px"
    for name, err in (("long axis - 2a", long_err), ("short axis - 2b", short_err)):
        e = np.abs(err)
        print(f"{name:16s} ({unit}): mean {np.mean(err):+.3f}, median |e| {np.median(e):.3f}, "
              f"p95 {np.percentile(e, 95):.3f}, max {e.max():.3f}")
    ms = np.array(times) * 1000
    print(f"time per mask: median {np.median(ms):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms ({args.n} ellipses)")


if __name__ == "__main__":
    main()
