"""Replay an annotation session through the app's own code (project store, interactive engine, background
trainer, model versions) and show whether every label makes the next one cheaper.

    python bench/session.py --data ../shared/data/ddti --split ../shared/data/ddti/splits/val.txt \\
        [--frames 100] [--policy calipers|clicks] [--retrain-every 10] [--minutes 2] [--learning on|off] \\
        [--starter on|off] [--seed 0] [--threads 1]

Frames come in a seeded order (frames whose mask is empty are left out: there is nothing to outline). With
--learning on the same frames are replayed twice, without training and with it, so that `reduction` compares
like with like. Prints one line per block of 10 frames and run, then a final JSON line."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.io.dataset import list_dataset  # noqa: E402
from core.learning.session_replay import ReplayConfig, ReplayResult, replay, replay_frames  # noqa: E402

LAST = 30


def mean_clicks(result: ReplayResult) -> float:
    return round(float(np.mean([f.clicks for f in result.last(LAST)])), 3)


def summary(cfg: ReplayConfig, on: ReplayResult | None, off: ReplayResult) -> dict:
    main = on or off
    blocks = main.blocks(cfg.block)
    out = {"frames": len(main.frames), "policy": cfg.policy, "learning": cfg.learning, "starter": cfg.starter,
           "clicks_last30": mean_clicks(main), "clicks_last30_off": mean_clicks(off),
           "reduction": None, "no_click_share_last30": round(float(np.mean([f.clicks == 0 for f in
                                                                            main.last(LAST)])), 3),
           "accepted_iou_min_block": min(b["accepted_iou"] for b in blocks),
           "train_wait_s": round(main.train_wait_s, 1), "blocks": blocks, "blocks_off": off.blocks(cfg.block),
           "runs": main.runs}
    if on is not None and out["clicks_last30_off"]:
        out["reduction"] = round(1.0 - out["clicks_last30"] / out["clicks_last30_off"], 3)
    return out


def run(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--split", type=Path, help="stems to replay (default: every frame of --data)")
    p.add_argument("--frames", type=int, help="at most this many frames (default: all)")
    p.add_argument("--policy", choices=("calipers", "clicks"), default="clicks")
    p.add_argument("--retrain-every", type=int, default=10, help="K: a background run after every K frames")
    p.add_argument("--minutes", type=float, default=2.0, help="B: each run's budget, shared by both networks")
    p.add_argument("--epochs", type=int, help="frame-model epochs instead of minutes (reproducible runs)")
    p.add_argument("--click-steps", type=int, default=100, help="at most this many click-network steps per run")
    p.add_argument("--learning", choices=("on", "off"), default="on")
    p.add_argument("--starter", choices=("on", "off"), default="on", help="the shipped starter click network")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--preset", default="fast", help="the frame model's width preset (the app's default)")
    p.add_argument("--networks", default="frame,click", help="which networks the background runs train")
    args = p.parse_args(argv)
    cfg = ReplayConfig(policy=args.policy, retrain_every=args.retrain_every,
                       minutes=None if args.epochs and not args.minutes else args.minutes, epochs=args.epochs,
                       click_steps=args.click_steps, learning=args.learning == "on", starter=args.starter == "on",
                       seed=args.seed, threads=args.threads, preset=args.preset,
                       networks=tuple(n for n in args.networks.split(",") if n))
    frames = replay_frames(list_dataset(args.data, args.split), np.random.default_rng(args.seed), args.frames)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="sonoclick-session-") as tmp:
        off_cfg = ReplayConfig(**{**asdict(cfg), "learning": False})
        log(f"[session] {len(frames)} frames, policy {cfg.policy}: learning off")
        off = replay(frames, Path(tmp) / "off", off_cfg, log)
        on = None
        if cfg.learning:
            log("[session] learning on")
            on = replay(frames, Path(tmp) / "on", cfg, log)
    return summary(cfg, on, off)


if __name__ == "__main__":
    print(json.dumps(run()))
