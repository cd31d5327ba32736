"""Why a replayed session's learned versions cost clicks: on the session's own frame order, the first N frames
stand for the accepted masks (their truth: the session accepts masks at IoU >= 0.90) and the next T frames are
labelled with what a background run would have made from them. Per recipe: the frame model's Dice on the next
frames, and the simulated user's clicks there (NoC@85 / NoC@90, RITM robot through the engine) from its
prediction with the starter click network, or from nothing with a fine-tuned click network.

    python bench/session_diagnostic.py --data ../shared/data/ddti --split ../shared/data/ddti/splits/val.txt \\
        [--sizes 10,30] [--next 10] [--frame-recipes scratch60,scratch20] [--click-recipes lr1e-3x200]

Frame recipes: scratch<E> (E epochs from scratch, last EMA weights kept); click recipes: lr<LR>x<STEPS>[frozen]
(fine-tune the starter; frozen: its encoder stays as it was). Measurement only: weights trained here are thrown away."""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.session import load_frames  # noqa: E402
from core.interactive.clicks_benchmark import run_frame  # noqa: E402
from core.interactive.starter_models import starter_click_path  # noqa: E402
from core.learning.click_round import STEPS_PER_EPOCH  # noqa: E402
from core.learning.session_replay import ReplayFrame  # noqa: E402
from core.runtime.metrics import dice  # noqa: E402
from core.training.click_samples import ClickFrame  # noqa: E402
from core.training.click_task import ClickTrainConfig, train_click_model  # noqa: E402
from core.training.data import TrainingFrame  # noqa: E402
from core.training.frame_task import TrainConfig, train  # noqa: E402
from core.training.targets import mask_targets  # noqa: E402
from models.checkpoint_header import read_metadata  # noqa: E402
from models.preprocess import DEFAULT_RESOLUTION, content_box, crop_resize  # noqa: E402


def clicks(frames: list[ReplayFrame], click_model: Path | None, probabilities: list | None, threads: int) -> dict:
    from core.interactive.click_network import ClickPredictor

    predictor = None if click_model is None else ClickPredictor.load(click_model, threads=threads)
    runs = [run_frame(f.image, f.truth, "none", 20, 0.0, np.random.default_rng(0),
                      None if probabilities is None else probabilities[k], click_model=predictor)
            for k, f in enumerate(frames)]
    return {"noc85": round(float(np.mean([r.noc(0.85, 20) for r in runs])), 2),
            "noc90": round(float(np.mean([r.noc(0.90, 20) for r in runs])), 2)}


def training_frame(frame: ReplayFrame, resolution: int) -> TrainingFrame:
    box = content_box(frame.image)
    out = TrainingFrame(frame.stem, crop_resize(frame.image, box, resolution), box, frame.image.shape[:2])
    out.truth = crop_resize(frame.truth.astype(np.uint8), box, resolution, nearest=True) > 0
    out.targets = mask_targets(out.truth)
    return out


def frame_recipe(name: str, frames: list[ReplayFrame], args: argparse.Namespace, out: Path) -> Path:
    epochs = int(re.fullmatch(r"scratch(\d+)", name).group(1))  # type: ignore[union-attr]
    cfg = TrainConfig(supervision="masks", preset="fast", resolution=DEFAULT_RESOLUTION, epochs=epochs,
                      seed=args.seed, threads=args.threads, device="cpu")
    train([training_frame(f, DEFAULT_RESOLUTION) for f in frames], [], cfg, out)
    return out


def click_recipe(name: str, frames: list[ReplayFrame], args: argparse.Namespace, starter: Path, out: Path) -> Path:
    match = re.fullmatch(r"lr([0-9.e-]+)x(\d+)(frozen)?", name)
    assert match, f"click recipe {name!r}: lr<LR>x<STEPS>[frozen]"
    cfg = ClickTrainConfig(epochs=max(1, int(match.group(2)) // STEPS_PER_EPOCH), minutes=None, seed=args.seed,
                           threads=args.threads, device="cpu", appearance="strong")
    cfg.repeat_to = STEPS_PER_EPOCH * cfg.batch_size
    cfg.init_checkpoint, cfg.lr, cfg.freeze_encoder = str(starter), float(match.group(1)), bool(match.group(3))
    cfg.resolution = int(read_metadata(starter)["resolution"])
    train_click_model([ClickFrame(f.stem, f.image, f.truth) for f in frames], [], cfg, out)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--split", type=Path)
    p.add_argument("--sizes", default="10,30")
    p.add_argument("--next", type=int, default=10, help="frames labelled with the result (after the first N)")
    p.add_argument("--frame-recipes", default="scratch60")
    p.add_argument("--click-recipes", default="lr1e-3x200,lr3e-4x100")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    starter = starter_click_path()
    assert starter is not None, "no starter click network in resources/models"
    sizes = [int(s) for s in args.sizes.split(",")]
    frames = load_frames(args.data, args.split, max(sizes) + args.next, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            seen, following = frames[:size], frames[size:size + args.next]
            row = {"frames": size, "next": len(following), "recipe": "starter click network, no frame model"}
            print(json.dumps({**row, **clicks(following, starter, None, args.threads)}), flush=True)
            for name in [r for r in args.frame_recipes.split(",") if r]:
                started = time.perf_counter()
                model = frame_recipe(name, seen, args, Path(tmp) / f"frame-{name}-{size}.safetensors")
                from core.runtime.predictor import Predictor

                predictor = Predictor.load(model, device="cpu", threads=args.threads)
                probabilities = [predictor.predict(f.image) for f in following]
                dices = [float(dice(p > 0.5, f.truth)) for p, f in zip(probabilities, following)]
                print(json.dumps({"frames": size, "recipe": f"frame {name} + starter click network",
                                  "train_s": round(time.perf_counter() - started, 1),
                                  "dice": round(float(np.mean(dices)), 3),
                                  **clicks(following, starter, probabilities, args.threads)}), flush=True)
            for name in [r for r in args.click_recipes.split(",") if r]:
                started = time.perf_counter()
                model = click_recipe(name, seen, args, starter, Path(tmp) / f"click-{name}-{size}.safetensors")
                print(json.dumps({"frames": size, "recipe": f"click {name}, no frame model",
                                  "train_s": round(time.perf_counter() - started, 1),
                                  **clicks(following, model, None, args.threads)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
