"""One network, one wall-clock budget, one seed, trained from each kind of label; the ProCNS ablation on scribbles.

    python bench/supervision_table.py --data ../shared/data/ddti [--minutes 20 | --epochs N] [--seed 0] [--threads 2]
                                      [--only masks,scribbles_pce,scribbles] [--out-root /tmp/sonoclick_supervision]
                                      [--score-only]

Every run trains the same network (`train --width fast`, default resolution) on splits/train.txt (10 % of it
held out for checkpoint selection) for the same number of minutes, one run after the other, and is scored on
splits/val.txt, which it never trains on or selects with. Labels other than masks are simulated from the masks
(calipers with 3 px jitter; scribbles, boxes and points by core.annotation.sparse_simulation). Rows:
masks, calipers, scribbles (partial CE + PRSA + ANPM), boxes and points (the train command's default recipe for
sparse labels), scribbles_pce (partial CE only), scribbles_prsa (partial CE + PRSA), and, not run unless named in
--only, boxes_engine and scribbles_engine (`--sparse-pseudo engine`: the interactive engine's mask from the labels
as a pseudo-label), boxes_prsa and points_prsa (their default recipe + PRSA).
Prints a table (val Dice, IoU, HD95 in px, training frames/s, epochs) with each Dice's ratio to masks; the last
stdout line is JSON with each run's val Dice under its name (and the details under "runs")."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.commands.evaluate import evaluate_items  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.runtime.predictor import Predictor  # noqa: E402

RUNS: dict[str, list[str]] = {
    "masks": ["--supervision", "masks"],
    "calipers": ["--supervision", "calipers", "--jitter", "3", "--loss-weights", "pseudo-label"],
    "scribbles": ["--supervision", "scribbles", "--loss-weights", "procns"],
    "boxes": ["--supervision", "boxes"],
    "points": ["--supervision", "points"],
    "scribbles_pce": ["--supervision", "scribbles", "--loss-weights", "partial-ce"],
    "scribbles_prsa": ["--supervision", "scribbles", "--loss-weights", "procns,pseudo_ce=0,noisy_dice=0"],
    # the interactive engine's mask from the labels as a pseudo-label (partial CE + Dice + BCE against it)
    "boxes_engine": ["--supervision", "boxes", "--sparse-pseudo", "engine"],
    "scribbles_engine": ["--supervision", "scribbles", "--sparse-pseudo", "engine"],
    # PRSA added to the cheaper labels' partial CE
    "boxes_prsa": ["--supervision", "boxes", "--loss-weights", "partial-ce,prsa=0.1"],
    "points_prsa": ["--supervision", "points", "--loss-weights", "partial-ce,prsa=0.1"],
}

ON_REQUEST = ("boxes_engine", "scribbles_engine", "boxes_prsa", "points_prsa")
TABLE = [name for name in RUNS if name not in ON_REQUEST]  # the table


def _train(name: str, args: argparse.Namespace) -> dict:
    out = args.out_root / name
    out.mkdir(parents=True, exist_ok=True)
    data = args.data
    budget = ["--epochs", str(args.epochs)] if args.epochs else ["--minutes", str(args.minutes)]
    command = [sys.executable, "-m", "core", "train", "--data", str(data), "--split", str(data / "splits/train.txt"),
               *RUNS[name], "--out", str(out), *budget, "--threads", str(args.threads),
               "--seed", str(args.seed), "--width", args.width, "--device", args.device]
    with open(args.out_root / f"{name}.log", "w") as log:
        print(f"[supervision] training {name} ({budget[1]} {budget[0][2:]}), log {args.out_root / f'{name}.log'}",
              flush=True)
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"[supervision] {name} training failed (rc {done.returncode}); see its log")
    return json.loads(lines[-1])


def _trained_earlier(name: str, args: argparse.Namespace) -> dict:
    """--score-only: an earlier run's epochs and training speed, from its history (its last epoch)."""
    history = args.out_root / name / "history.json"
    if not history.exists() or not (args.out_root / name / "model.safetensors").exists():
        raise SystemExit(f"[supervision] --score-only: no finished run {name} under {args.out_root}")
    last = [e for e in json.loads(history.read_text()) if e.get("kind") == "epoch"][-1]
    return {"epochs": int(last["epoch"]), "frames_per_s": float(last["frames_per_s"])}


def _table(scores: dict[str, dict]) -> list[str]:
    masks = scores.get("masks", {}).get("dice")
    header = ("run", "Dice", "IoU", "HD95px", "train fr/s", "epochs", "Dice/masks")
    rows = [f"{header[0]:15s} " + " ".join(f"{h:>{max(7, len(h))}s}" for h in header[1:])]
    for name, s in scores.items():
        ratio = f"{s['dice'] / masks:.3f}" if masks else "n/a"
        hd95 = "n/a" if s["hd95"] is None else f"{s['hd95']:.1f}"
        rows.append(f"{name:15s} {s['dice']:7.4f} {s['iou']:7.4f} {hd95:>7s} {s['frames_per_s']:10.2f} "
                    f"{s['epochs']:7d} {ratio:>10s}")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--epochs", type=int, help="equal epochs instead of equal minutes (runs may then go in parallel)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--width", default="fast")
    p.add_argument("--device", default="cpu")
    p.add_argument("--only", default=",".join(TABLE), help=f"comma-separated subset of {', '.join(RUNS)}")
    p.add_argument("--out-root", type=Path, default=Path("/tmp/sonoclick_supervision"))
    p.add_argument("--score-only", action="store_true",
                   help="train nothing: score the runs already under --out-root (one table from several sittings)")
    args = p.parse_args()
    args.data = args.data.resolve()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in RUNS]
    if unknown:
        raise SystemExit(f"unknown run(s) {unknown}; known: {list(RUNS)}")

    started = time.time()
    val_items = list_dataset(args.data, args.data / "splits/val.txt")
    scores: dict[str, dict] = {}
    for name in names:
        trained = _trained_earlier(name, args) if args.score_only else _train(name, args)
        predictor = Predictor.load(args.out_root / name / "model.safetensors", device="cpu", threads=args.threads)
        scores[name] = {**evaluate_items(predictor, val_items, log_every=0), **trained}
        print(f"[supervision] {name}: val Dice {scores[name]['dice']:.4f} after {trained['epochs']} epochs "
              f"({(time.time() - started) / 60:.1f} min so far)", flush=True)
    budget = f"{args.epochs} epochs" if args.epochs else f"{args.minutes} min"
    print(f"[supervision] {args.data.name}, {budget} per run, seed {args.seed}, {args.threads} thread(s), "
          f"val split ({len(val_items)} frames):", flush=True)
    for row in _table(scores):
        print(row, flush=True)
    summary = {name: s["dice"] for name, s in scores.items()}
    print(json.dumps({**summary, "minutes": None if args.epochs else args.minutes, "epochs": args.epochs,
                      "seed": args.seed, "threads": args.threads, "data": args.data.name, "runs": scores}))


if __name__ == "__main__":
    main()
