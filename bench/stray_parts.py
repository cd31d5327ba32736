"""What stray parts of a starting mask cost the clicking user (issue 14's lead): on each frame the engine starts
from a mask made from the truth, and the RITM robot clicks with the starter click network until IoU 0.90.

    python bench/stray_parts.py --data ../shared/data/ddti --split ../shared/data/ddti/splits/val.txt \\
        [--frames 25] [--seed 0] [--threads 1]

Starts: none; the nodule shrunk by 12 % of its size (`nodule`); that plus a disc of a quarter of its size far
from it (`nodule+blob`); the nodule shrunk by 30 % plus a smaller far disc (`small+blob`, where the first click
is positive); the far disc alone (`blob only`, a frame model that missed the nodule). Prints one JSON line per
start: NoC@85 and NoC@90 (20-click budget)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.interactive.click_network import ClickPredictor  # noqa: E402
from core.interactive.clicks_benchmark import run_frame  # noqa: E402
from core.interactive.starter_models import starter_click_path  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402

MAX_CLICKS = 20


def far_disc(truth: np.ndarray, rng: np.random.Generator, radius: int) -> np.ndarray:
    """A disc of `radius` at a seeded spot at least 1.5 radii from the nodule and inside the frame."""
    h, w = truth.shape
    yy, xx = np.mgrid[0:h, 0:w]
    spots = (ndimage.distance_transform_edt(~truth) > 1.5 * radius) & (yy > radius) & (yy < h - radius)
    spots &= (xx > radius) & (xx < w - radius)
    ys, xs = np.nonzero(spots)
    k = rng.integers(len(ys))
    return (yy - ys[k]) ** 2 + (xx - xs[k]) ** 2 <= radius * radius


def starts(truth: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray | None]:
    """The starting masks of one frame, by name (None: no starting mask)."""
    size = np.sqrt(truth.sum())
    nodule = ndimage.binary_erosion(truth, iterations=max(1, int(0.12 * size)))
    small = ndimage.binary_erosion(truth, iterations=max(1, int(0.3 * size)))
    radius = max(4, int(0.25 * size))
    blob, tiny = far_disc(truth, rng, radius), far_disc(truth, rng, max(3, radius // 2))
    return {"none": None, "nodule": nodule, "nodule+blob": nodule | blob, "small+blob": small | tiny,
            "blob only": blob}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--split", type=Path)
    p.add_argument("--frames", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    path = starter_click_path()
    if path is None:
        sys.exit("this build ships no starter click network")
    net = ClickPredictor.load(path, device="cpu", threads=args.threads)
    nocs: dict[str, list[tuple[int, int]]] = {}
    items = [i for i in list_dataset(args.data, args.split) if i.mask() is not None][: args.frames]
    for k, item in enumerate(items):
        truth, image = item.mask() > 0, item.frame().gray_u8()
        if not truth.any():
            continue
        for name, start in starts(truth, np.random.default_rng([args.seed, k])).items():
            probability = None if start is None else start.astype(np.float32)
            run = run_frame(image, truth, "none", MAX_CLICKS, 0.0, np.random.default_rng(args.seed), probability, net)
            nocs.setdefault(name, []).append((run.noc(0.85, MAX_CLICKS), run.noc(0.90, MAX_CLICKS)))
    for name, values in nocs.items():
        noc85, noc90 = np.mean(values, axis=0)
        print(json.dumps({"start": name, "n": len(values), "noc85": round(float(noc85), 2),
                          "noc90": round(float(noc90), 2)}))


if __name__ == "__main__":
    main()
