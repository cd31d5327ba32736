"""What ProCNS's extra terms cost per training step on CPU, against partial cross-entropy alone.

    python bench/procns_cost.py [--threads 1] [--steps 20] [--width fast] [--resolution 128] [--batch-size 8]

One training step = batch assembly (augmentation), forward, loss, backward and the optimiser step, on seeded
synthetic frames with simulated scribbles. Variants: partial CE only; + PRSA (phase 1); + PRSA + ANPM's phase 2
(pseudo-label CE, noise mask, Dice on noisy pixels), with a soft pseudo-label in place and both classes
enabled. Prints the median step time of each and the extra cost in % of the partial-CE step; last line JSON.
The between-epochs pseudo-label refresh (one inference pass over the training frames) is timed apart."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.annotation.sparse_simulation import simulate_scribbles  # noqa: E402
from core.runtime.predictor import work_probabilities  # noqa: E402
from core.training.data import TrainingFrame  # noqa: E402
from core.training.frame_task import FrameTask, TrainConfig  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402
from core.training.targets import sparse_targets  # noqa: E402
from models.losses import LOSS_PRESETS, LossWeights  # noqa: E402

VARIANTS = {
    "partial_ce": LOSS_PRESETS["partial-ce"],
    "prsa": replace(LOSS_PRESETS["procns"], pseudo_ce=0.0, noisy_dice=0.0),
    "prsa_anpm": LOSS_PRESETS["procns"],
}


def _frames(n: int, resolution: int) -> list[TrainingFrame]:
    rng = np.random.default_rng(0)
    frames = []
    for k in range(n):
        f = make_frame(k, size=(resolution, resolution), contrast=0.6)
        targets = sparse_targets(simulate_scribbles(f.mask, rng))
        targets[3] = np.where(f.mask, 200, 40).astype(np.uint8)  # a soft pseudo-label, as after some epochs
        frames.append(TrainingFrame(str(k), f.image, (0, 0, resolution, resolution), f.image.shape, f.mask,
                                    targets=targets))
    return frames


class _Variant:
    """One loss variant's network, training module and optimiser, stepped on demand."""

    def __init__(self, frames: list[TrainingFrame], weights: LossWeights, args: argparse.Namespace) -> None:
        torch.manual_seed(0)
        cfg = TrainConfig(supervision="scribbles", preset=args.width, resolution=args.resolution,
                          batch_size=args.batch_size, loss_weights=weights, threads=args.threads, amp=False)
        self.task = FrameTask(frames, [], cfg)
        _, self.module = self.task.build(torch.device("cpu"), 0)
        self.task.training_net.anpm_enabled = (True, True)
        self.optimiser = torch.optim.AdamW(self.module.parameters(), lr=1e-3)
        self.times_ms: list[float] = []

    def step(self, indices: list[int], timed: bool) -> None:
        start = time.perf_counter()
        x, batch = self.task.batch(indices)
        loss = self.module(x, batch)["total"]
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        if timed:
            self.times_ms.append(1000 * (time.perf_counter() - start))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--width", default="fast")
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=8)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    frames = _frames(32, args.resolution)
    variants = {name: _Variant(frames, weights, args) for name, weights in VARIANTS.items()}
    # round robin, so that a shared machine's changing load falls on every variant alike
    for step in range(args.steps + 3):
        indices = [(step * args.batch_size + i) % len(frames) for i in range(args.batch_size)]
        for variant in variants.values():
            variant.step(indices, timed=step >= 3)  # the first steps warm up allocators
    results = {name: round(float(np.median(v.times_ms)), 1) for name, v in variants.items()}
    for name, ms in results.items():
        print(f"[procns-cost] {name:10s} {ms:8.1f} ms / step (median of {args.steps})", flush=True)
    base = results["partial_ce"]
    extra = {name: round(100 * (ms - base) / base, 1) for name, ms in results.items() if name != "partial_ce"}
    task = FrameTask(frames, [], TrainConfig(supervision="scribbles", preset=args.width, resolution=args.resolution))
    network, _ = task.build(torch.device("cpu"), 0)
    work_probabilities(network, [f.image for f in frames[:4]], task.norm, torch.device("cpu"))  # warm-up
    start = time.perf_counter()
    work_probabilities(network, [f.image for f in frames], task.norm, torch.device("cpu"))
    refresh_ms_per_frame = 1000 * (time.perf_counter() - start) / len(frames)
    print("[procns-cost] extra step time vs partial CE: " + ", ".join(f"{k} +{v}%" for k, v in extra.items()))
    print(f"[procns-cost] pseudo-label refresh: {refresh_ms_per_frame:.1f} ms per training frame per epoch")
    print(json.dumps({"threads": args.threads, "width": args.width, "resolution": args.resolution,
                      "batch_size": args.batch_size, "step_ms": results, "extra_percent": extra,
                      "refresh_ms_per_frame": round(refresh_ms_per_frame, 2)}))


if __name__ == "__main__":
    main()
