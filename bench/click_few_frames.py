"""Which click-network recipe learns best from a project's first few accepted masks: fine-tune the starter (or
any click network) vs train from scratch, at 5, 10, 20, 40, 80 frames, for a fixed number of steps; scored by
the simulated user's NoC@85 / NoC@90 (RITM robot clicks through the interactive engine) on other frames.

    python bench/click_few_frames.py --data ../shared/data/ddti --train-split .../train.txt \\
        --val-split .../val.txt --init resources/models/click_starter.safetensors [--sizes 5,20] \\
        [--recipes finetune,scratch] [--steps 100] [--val-frames 30] [--threads 1]

Measurement only: weights trained here are thrown away (DDTI may never train shipped weights)."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.interactive.clicks_benchmark import run_frame  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.learning.click_round import FINE_TUNE_LR, STEPS_PER_EPOCH  # noqa: E402
from core.training.click_samples import frames_with_masks  # noqa: E402
from core.training.click_task import ClickTrainConfig, train_click_model  # noqa: E402
from models.checkpoint_header import read_metadata  # noqa: E402


def nocs(model_path: Path | None, frames: list, threads: int) -> dict:
    from core.interactive.click_network import ClickPredictor

    predictor = None if model_path is None else ClickPredictor.load(model_path, threads=threads)
    runs = [run_frame(f.image, f.truth, "none", 20, 0.0, np.random.default_rng(0), click_model=predictor)
            for f in frames]
    return {"noc85": round(float(np.mean([r.noc(0.85, 20) for r in runs])), 3),
            "noc90": round(float(np.mean([r.noc(0.90, 20) for r in runs])), 3)}


def train_one(frames: list, recipe: str, init: Path | None, steps: int, seed: int, threads: int, out: Path) -> Path:
    cfg = ClickTrainConfig(epochs=max(1, steps // STEPS_PER_EPOCH), minutes=None, seed=seed, threads=threads,
                           device="cpu", appearance="strong")
    cfg.repeat_to = STEPS_PER_EPOCH * cfg.batch_size
    if recipe == "finetune":
        cfg.init_checkpoint, cfg.lr = str(init), FINE_TUNE_LR
        cfg.resolution = int(read_metadata(init)["resolution"])
    train_click_model(frames, [], cfg, out)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--train-split", type=Path, required=True)
    p.add_argument("--val-split", type=Path, required=True)
    p.add_argument("--init", type=Path, help="the click network to fine-tune (finetune recipe)")
    p.add_argument("--sizes", default="5,10,20,40,80")
    p.add_argument("--recipes", default="finetune,scratch")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--val-frames", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    pool = frames_with_masks(list_dataset(args.data, args.train_split))
    val = frames_with_masks(list_dataset(args.data, args.val_split))[:args.val_frames]
    order = np.random.default_rng(args.seed).permutation(len(pool))
    rows = [{"frames": 0, "recipe": "init" if args.init else "no network", **nocs(args.init, val, args.threads)}]
    print(json.dumps(rows[-1]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for size in [int(s) for s in args.sizes.split(",")]:
            frames = [pool[i] for i in order[:size]]
            for recipe in args.recipes.split(","):
                out = train_one(frames, recipe, args.init, args.steps, args.seed, args.threads,
                                Path(tmp) / f"{recipe}{size}.safetensors")
                rows.append({"frames": size, "recipe": recipe, "steps": args.steps,
                             **nocs(out, val, args.threads)})
                print(json.dumps(rows[-1]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
