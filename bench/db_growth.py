"""Project database growth per single-point edit on a busy frame: a 600 x 800 synthetic frame with 4 nodules,
each with its calipers, 3 clicks and an accepted mask with a ragged (hand-drawn-like) outline; then N seeded
single-point moves, each its own undoable edit. Prints the bytes in use (pages minus free pages, WAL included)
after the first edits and at the end, and the file size once the store is closed. The store keeps a bounded undo
depth per frame, so the early rate is the cost of one history step and the end figure shows where it levels off.
Uses only the store's public API, so the same script measures any version of the store.

    python bench/db_growth.py [--edits 2500] [--size 600 800] [--nodules 4] [--seed 0]
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.annotation.caliper_simulation import calipers_from_label_map  # noqa: E402
from core.annotation.points import Point, PointKind  # noqa: E402
from core.project.store import DB_NAME, ProjectStore  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402

CLICKS_PER_NODULE = 3


def _busy_frame(store: ProjectStore, image_path: Path, size: tuple[int, int], nodules: int, seed: int) -> int:
    frame = make_frame(seed, size, n_nodules=nodules)
    cv2.imwrite(str(image_path), frame.image)
    frame_id = store.add_frames([image_path])[0].id
    rng = np.random.default_rng(seed)
    for object_id, calipers in enumerate(calipers_from_label_map(frame.labels)):
        store.set_calipers(frame_id, object_id, calipers)
        ys, xs = np.nonzero(frame.labels == object_id + 1)
        for k in rng.choice(len(xs), CLICKS_PER_NODULE, replace=False):
            store.add_point(frame_id, Point(float(xs[k]), float(ys[k]), PointKind.FOREGROUND, object_id))
        store.set_mask(frame_id, object_id, _ragged(frame.labels == object_id + 1, rng), "generated")
    return frame_id


def _ragged(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The mask with its outline roughened by smooth noise of a few pixels, as a brush or graph cut leaves it."""
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
    noise = cv2.GaussianBlur(rng.normal(size=mask.shape).astype(np.float32), (0, 0), 1.5)
    return (inside - outside + 12 * noise) > 0


def _bytes_in_use(folder: Path) -> int:
    with closing(sqlite3.connect(f"{(folder / DB_NAME).as_uri()}?mode=ro", uri=True)) as conn:
        pages, free, size = (conn.execute(f"PRAGMA {q}").fetchone()[0] for q in ("page_count", "freelist_count",
                                                                                   "page_size"))
    return (pages - free) * size


def _db_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob(DB_NAME + "*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=2500)
    parser.add_argument("--size", type=int, nargs=2, default=(600, 800), metavar=("H", "W"))
    parser.add_argument("--nodules", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--early", type=int, default=400, help="report the rate over this many first edits too")
    args = parser.parse_args()
    height, width = args.size
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="sonoclick-db-growth-") as tmp:
        folder = Path(tmp) / "project"
        with ProjectStore.create(folder) as store:
            frame_id = _busy_frame(store, Path(tmp) / "busy.png", (height, width), args.nodules, args.seed)
            n_points, n_masks = len(store.points(frame_id)), len(store.masks(frame_id))
        start_bytes, start_used = _db_bytes(folder), _bytes_in_use(folder)
        early_used = None
        with ProjectStore.open(folder) as store:
            ids = sorted(store.points(frame_id))
            started = time.perf_counter()
            for k in range(args.edits):
                if k == args.early:
                    early_used = _bytes_in_use(folder)
                pid = int(rng.choice(ids))
                p = store.points(frame_id)[pid]
                dx, dy = rng.integers(-2, 3, size=2)
                store.move_point(pid, float(np.clip(p.x + dx, 0, width - 1)), float(np.clip(p.y + dy, 0, height - 1)))
            seconds = time.perf_counter() - started
            end_used = _bytes_in_use(folder)
        end_bytes = _db_bytes(folder)
    print(f"frame {width}x{height}: {args.nodules} nodules, {n_points} points, {n_masks} masks")
    print(f"before edits: {start_bytes:,} bytes on disk, {start_used:,} in use")
    if early_used is not None:
        print(f"after {args.early:,} edits: {early_used - start_used:,} bytes more in use = "
              f"{(early_used - start_used) / args.early:,.0f} bytes per edit")
    print(f"after {args.edits:,} edits: {end_used - start_used:,} bytes more in use = "
          f"{(end_used - start_used) / args.edits:,.0f} bytes per edit; file {end_bytes:,} bytes "
          f"(+{end_bytes - start_bytes:,}); {1000 * seconds / args.edits:.2f} ms per edit")


if __name__ == "__main__":
    main()
