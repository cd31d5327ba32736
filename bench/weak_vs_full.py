"""Weak (simulated calipers, 3 px jitter) vs full (masks) supervision under the same wall-clock budget.

    python bench/weak_vs_full.py --data ../shared/data/ddti [--minutes 20] [--out-root /tmp/sonoclick_runs]

Both runs train the same network on splits/train.txt (10 % of it held out for checkpoint selection) and are
scored on splits/val.txt, which is never trained on or selected with (its per-epoch Dice is report-only).
Default schedule: one training after the other, each with the whole machine (--threads, default 2) for its
budget; --concurrent runs both at once with 1 thread each (half the wall time, same hardware share).
Prints both val Dice values and their ratio, the val Dice vs minutes curves, CPU inference latency
(p50/p95 ms per frame, whole pipeline: crop, resize, network, paste back) and training throughput."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from child_lifetime import die_with_parent  # noqa: E402

from core.commands.evaluate import evaluate_items  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.runtime.predictor import Predictor  # noqa: E402
from models.preprocess import DEFAULT_RESOLUTION  # noqa: E402

# Calipers use the "pseudo-label" recipe (the train command's default for calipers): at equal epochs on DDTI
# it beat the published HCL-HRL loss mix (0.739 vs 0.708 val Dice, seed 0, 38 epochs at 160 px on a GPU).
RUNS = {"calipers": ["--supervision", "calipers", "--jitter", "3", "--loss-weights", "pseudo-label"],
        "masks": ["--supervision", "masks"]}


def _train_command(name: str, args: argparse.Namespace, threads: int) -> list[str]:
    data = args.data
    return [sys.executable, "-m", "core", "train", "--data", str(data), "--split", str(data / "splits/train.txt"),
            *RUNS[name], "--out", str(args.out_root / name), "--minutes", str(args.minutes),
            "--threads", str(threads), "--seed", str(args.seed), "--width", args.width,
            "--resolution", str(args.resolution), "--monitor-split", str(data / "splits/val.txt"), *args.extra]


def _launch(name: str, args: argparse.Namespace, threads: int) -> tuple[subprocess.Popen, object]:
    (args.out_root / name).mkdir(parents=True, exist_ok=True)
    log = open(args.out_root / f"{name}.log", "w")  # noqa: SIM115 - closed after the process ends
    proc = subprocess.Popen(_train_command(name, args, threads), cwd=ROOT, stdout=subprocess.PIPE, stderr=log,
                            text=True, preexec_fn=die_with_parent)
    print(f"[bench] started {name}: pid {proc.pid}, log {args.out_root / f'{name}.log'}", flush=True)
    return proc, log


def _finish(name: str, proc: subprocess.Popen, log: object) -> dict:
    out, _ = proc.communicate()
    log.close()  # type: ignore[attr-defined]
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"[bench] {name} training failed (rc {proc.returncode}); see its log")
    return json.loads(lines[-1])


def _curve(run_dir: Path) -> list[tuple[float, float]]:
    history = json.loads((run_dir / "history.json").read_text())
    return [(round(h["elapsed_s"] / 60, 2), round(h["monitor_dice"], 4)) for h in history
            if h.get("monitor_dice") is not None]


def _latency(model: Path, images: list[np.ndarray], threads: int) -> tuple[float, float]:
    predictor = Predictor.load(model, device="cpu", threads=threads)
    for image in images[:5]:
        predictor.predict(image)
    times = []
    for image in images:
        start = time.perf_counter()
        predictor.predict(image)
        times.append(1000 * (time.perf_counter() - start))
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/ddti")
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--out-root", type=Path, default=Path("/tmp/sonoclick_runs"))
    p.add_argument("--concurrent", action="store_true", help="both runs at once, 1 thread each")
    p.add_argument("--threads", type=int, default=2, help="threads per run (sequential schedule)")
    p.add_argument("--width", default="fast")
    p.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="further `train` arguments")
    args = p.parse_args()
    args.data = args.data.resolve()

    started = time.time()
    results = {}
    if not args.concurrent:
        for name in RUNS:
            results[name] = _finish(name, *_launch(name, args, args.threads))
    else:
        running = {name: _launch(name, args, 1) for name in RUNS}
        results = {name: _finish(name, *handles) for name, handles in running.items()}
    print(f"[bench] trainings done in {(time.time() - started) / 60:.1f} min", flush=True)

    val_items = list_dataset(args.data, args.data / "splits/val.txt")
    scores = {}
    for name in RUNS:
        predictor = Predictor.load(args.out_root / name / "model.safetensors", device="cpu", threads=2)
        scores[name] = evaluate_items(predictor, val_items, log_every=0)
        curve = _curve(args.out_root / name)
        print(f"[bench] {name:8s} val Dice {scores[name]['dice']:.4f} IoU {scores[name]['iou']:.4f} "
              f"HD95 {scores[name]['hd95']:.1f} px | {results[name]['epochs']} epochs, "
              f"{results[name]['frames_per_s']:.2f} training frames/s, best held-out Dice "
              f"{results[name]['best_val_dice']} at epoch {results[name]['best_epoch']}", flush=True)
        print(f"[bench] {name:8s} val Dice vs minutes: " + " ".join(f"{m:.1f}:{d:.3f}" for m, d in curve), flush=True)
    ratio = scores["calipers"]["dice"] / max(scores["masks"]["dice"], 1e-9)
    images = [item.frame().gray_u8() for item in val_items]
    p50, p95 = _latency(args.out_root / "calipers" / "model.safetensors", images, threads=2)
    print(f"[bench] calipers/masks Dice ratio {ratio:.4f}", flush=True)
    print(f"[bench] CPU inference latency (2 threads, {args.resolution} px): p50 {p50:.1f} ms, p95 {p95:.1f} ms",
          flush=True)
    print(json.dumps({
        "schedule": "concurrent, 1 thread each" if args.concurrent else f"sequential, {args.threads} threads each",
        "minutes": args.minutes,
        "calipers": {**scores["calipers"], **results["calipers"], "curve": _curve(args.out_root / "calipers")},
        "masks": {**scores["masks"], **results["masks"], "curve": _curve(args.out_root / "masks")},
        "dice_ratio": round(ratio, 4),
        "latency_ms": {"p50": round(p50, 1), "p95": round(p95, 1)},
    }), flush=True)


if __name__ == "__main__":
    main()
