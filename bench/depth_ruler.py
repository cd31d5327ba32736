"""Depth-ruler detection (core.labels.depth_ruler) on seeded synthetic frames: speckle (gamma texture) beside a
black margin 45-70 px wide on the left or right, a dark nodule, a caption, and on half of them a ruler in the
margin (a vertical spine and 5-14 ticks 6-12 px long, 2 px thick, anti-aliased at sub-pixel rows, every 15-60
px). Prints how often the ruler is found with the right interval (within 0.2 px), the interval error, how often a
frame without a ruler gets a proposal, and the time per frame. With --folder it instead counts the frames of a
folder of images (the first --n, sorted by name) that get a proposal, with the proposals' columns, tick counts and
intervals, and saves a mosaic of up to 10 of them with the ticks circled (--mosaic) to look at.

    python bench/depth_ruler.py [--n 100] [--seed 0] [--size 480 640]
    python bench/depth_ruler.py --folder DIR [--n 100] [--mosaic out.png]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.labels.depth_ruler import find_ruler_ticks  # noqa: E402


def _frame(rng: np.random.Generator, size: tuple[int, int], ruler: bool) -> tuple[np.ndarray, float]:
    height, width = size
    img = np.clip(rng.gamma(2.0, rng.uniform(15, 35), size), 0, 255).astype(np.uint8)
    centre = (int(rng.integers(width // 3, 2 * width // 3)), int(rng.integers(height // 3, 2 * height // 3)))
    cv2.ellipse(img, centre, (int(rng.integers(30, 90)), int(rng.integers(20, 60))), float(rng.uniform(0, 180)),
                0, 360, 15, -1)
    cv2.putText(img, "THY 12L 38Hz", (width // 3, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, 2)
    interval = float(rng.uniform(15, 60))
    margin = int(rng.integers(45, 70))  # the black band beside the image where scanners draw the ruler
    left = rng.random() < 0.5
    band = (slice(None), slice(0, margin) if left else slice(width - margin, width))
    img[band] = rng.integers(0, 8, img[band].shape)
    if ruler:
        length = int(rng.integers(6, 13))
        x = int(rng.integers(5, margin - length - 5)) if left else width - margin + int(rng.integers(5, 20))
        cv2.line(img, (x + length, 0), (x + length, height - 1), 200, 1)
        first = float(rng.uniform(10, 40))
        ticks = min(int(rng.integers(5, 15)), int((height - first - 5) // interval) + 1)
        for k in range(ticks):
            y = round((first + k * interval) * 16)
            cv2.line(img, (x * 16, y), ((x + length) * 16, y), int(rng.integers(180, 256)), 2, cv2.LINE_AA, 4)
    return img, interval


def _real(folder: Path, n: int, mosaic: Path | None) -> None:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[:n]
    found, tiles = [], []
    for path in files:
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        ticks = None if img is None else find_ruler_ticks(img)
        if ticks is None:
            continue
        found.append(f"{path.name}: x {ticks.x:.0f}, {len(ticks.rows)} ticks every {ticks.interval_px:.1f} px")
        if len(tiles) < 10 and len(found) % max(1, n // 10) == 1:
            tile = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
            for y in ticks.rows:
                cv2.circle(tile, (round(ticks.x), round(y)), 4, (0, 0, 255), 1)
            tiles.append(cv2.resize(tile, (round(tile.shape[1] * 200 / tile.shape[0]), 200)))
    print(f"proposal on {len(found)}/{len(files)} frames of {folder}")
    for line in found[:20]:
        print("  " + line)
    if mosaic is not None and tiles:
        cv2.imwrite(str(mosaic), np.hstack(tiles))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, nargs=2, default=(480, 640), metavar=("HEIGHT", "WIDTH"))
    parser.add_argument("--folder", type=Path, default=None, help="real frames (PNG/JPEG) instead of synthetic")
    parser.add_argument("--mosaic", type=Path, default=None)
    args = parser.parse_args()
    if args.folder is not None:
        _real(args.folder, args.n, args.mosaic)
        return
    rng = np.random.default_rng(args.seed)
    found, errors, false_proposals, times = 0, [], 0, []
    for k in range(args.n):
        ruler = k % 2 == 0
        img, interval = _frame(rng, tuple(args.size), ruler)
        start = time.perf_counter()
        ticks = find_ruler_ticks(img)
        times.append(time.perf_counter() - start)
        if ruler and ticks is not None:
            errors.append(abs(ticks.interval_px - interval))
            found += errors[-1] <= 0.2
        false_proposals += not ruler and ticks is not None
    with_ruler = (args.n + 1) // 2
    print(f"ruler found, interval within 0.2 px: {found}/{with_ruler}; interval error median "
          f"{np.median(errors):.3f} px, max {np.max(errors):.3f} px")
    print(f"proposal on a frame without a ruler: {false_proposals}/{args.n - with_ruler}")
    ms = np.array(times) * 1000
    print(f"time per {args.size[1]}x{args.size[0]} frame: median {np.median(ms):.0f} ms, p95 "
          f"{np.percentile(ms, 95):.0f} ms")


if __name__ == "__main__":
    main()
