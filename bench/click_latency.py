"""Click-to-mask latency of the interactive engine on 600 x 600 synthetic frames (the largest size the
latency budget is stated for), robot-user clicks from a noisy start so that every click does real work.

    python bench/click_latency.py [--frames 20] [--size 600] [--click-model C] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.interactive.clicks_benchmark import run_frame, summarise  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--size", type=int, default=600)
    parser.add_argument("--click-model", type=Path, help="click-conditioned network to answer the clicks")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for the network")
    args = parser.parse_args()
    click_model = None
    if args.click_model:
        from core.interactive.click_network import ClickPredictor

        click_model = ClickPredictor.load(args.click_model, device="cpu", threads=args.threads)
    rng = np.random.default_rng(0)
    results = {}
    for start, jitter in (("calipers", 8.0), ("none", 0.0)):
        runs = []
        for seed in range(args.frames):
            frame = make_frame(seed, size=(args.size, args.size))
            runs.append(run_frame(frame.image, frame.mask, start, 20, jitter, rng, click_model=click_model))
        results[start] = summarise(runs, 20)
        print(f"[click_latency] start={start} clicks={sum(len(r.latencies_ms) for r in runs)}", file=sys.stderr)
    print(json.dumps({k: {m: v[m] for m in ("n", "noc90", "latency_ms_p50", "latency_ms_p95")}
                      for k, v in results.items()}))


if __name__ == "__main__":
    main()
