"""The background trainer's frame round on a project labelled with scribbles or boxes only: with and without
ProCNS's PRSA term (train-project adds it by default for scribbles, not for boxes), the engine's mask from the
strokes as pseudo-label, and (variant network_prsa) the shipped starter click network's mask from them with PRSA.

    python bench/project_sparse.py --data ../shared/data/ddti [--kind scribbles|boxes] [--frames 60]
                                   [--minutes 10 | --epochs N] [--threads 1] [--seed 0]
                                   [--out-root /tmp/sonoclick_project_sparse]

A project is made of the first --frames frames of a seeded shuffle of splits/train.txt, each labelled with the
simulated strokes of core.annotation.sparse_simulation (as the user would draw them: stored through the project
store, read back through its snapshot). The variants run `python -m core train-project --networks frame` on the
same snapshot at the same time (--threads each) for --minutes (or --epochs: equal epochs, whatever the host's load
does to each process), and are scored on splits/val.txt (which the project never holds). Prints val Dice
per variant; the last stdout line is JSON. network_prsa passes the starter as --click-baseline to make its
pseudo-labels; the frame round then also scores NoC@85 with it, which this bench ignores."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from child_lifetime import die_with_parent  # noqa: E402

from core.annotation.sparse_simulation import simulate_boxes, simulate_scribbles  # noqa: E402
from core.commands.evaluate import evaluate_items  # noqa: E402
from core.interactive.starter_models import starter_click_path  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.learning.snapshot import write_snapshot  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.runtime.predictor import Predictor  # noqa: E402
from models.losses import LOSS_PRESETS  # noqa: E402

SIMULATORS = {"scribbles": simulate_scribbles, "boxes": simulate_boxes}
PRSA = str(LOSS_PRESETS["prsa"].prsa)
VARIANTS = {"prsa": ["--prsa", PRSA, "--sparse-pseudo", "engine"],
            "no_prsa": ["--prsa", "0", "--sparse-pseudo", "engine"],
            "network_prsa": ["--prsa", PRSA, "--sparse-pseudo", "network", "--click-baseline", "STARTER"]}


def build_project(args: argparse.Namespace) -> Path:
    items = list_dataset(args.data, args.data / "splits" / "train.txt")
    rng = np.random.default_rng(args.seed)
    picked = [items[i] for i in rng.permutation(len(items))[: args.frames]]
    store = ProjectStore.create(args.out_root / "project")
    try:
        records = store.add_frames([item.image_path for item in picked])
        for record, item in zip(records, picked):
            for stroke in SIMULATORS[args.kind](item.mask(), rng).strokes:
                store.add_stroke(record.id, stroke)
        return write_snapshot(store, args.out_root / "snapshot")
    finally:
        store.close()


def train_variants(args: argparse.Namespace, snapshot: Path) -> dict[str, dict]:
    running = {}
    budget = ["--epochs", str(args.epochs)] if args.epochs else ["--minutes", str(args.minutes)]
    for name, extra in VARIANTS.items():
        out = args.out_root / name
        command = [sys.executable, "-m", "core", "train-project", "--snapshot", str(snapshot), "--out", str(out),
                   "--networks", "frame", *budget, "--threads", str(args.threads),
                   "--seed", str(args.seed), *(str(starter_click_path()) if a == "STARTER" else a for a in extra)]
        log = open(args.out_root / f"{name}.log", "w")
        running[name] = (out, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
                                                        preexec_fn=die_with_parent), log)
    reports = {}
    for name, (out, process, log) in running.items():
        stdout, _ = process.communicate()
        log.close()
        done = [json.loads(line) for line in stdout.splitlines() if line.startswith("{") and '"done"' in line]
        if process.returncode != 0 or not done:
            raise SystemExit(f"[project_sparse] {name} failed (rc {process.returncode}); see {log.name}")
        reports[name] = {"model": out / "model.safetensors", "epochs": done[-1].get("epochs")}
    return reports


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--kind", choices=sorted(SIMULATORS), default="scribbles")
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--epochs", type=int, help="train this many epochs instead of --minutes")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-limit", type=int, default=100)
    p.add_argument("--out-root", type=Path, default=Path("/tmp/sonoclick_project_sparse"))
    args = p.parse_args()
    if (args.out_root / "project").exists():
        raise SystemExit(f"{args.out_root / 'project'} exists: pass a fresh --out-root")
    args.out_root.mkdir(parents=True, exist_ok=True)
    snapshot = build_project(args)
    reports = train_variants(args, snapshot)
    val = list_dataset(args.data, args.data / "splits" / "val.txt")[: args.val_limit]
    results = {}
    for name, report in reports.items():
        predictor = Predictor.load(report["model"], device="cpu", threads=args.threads)
        results[name] = {"val_dice": evaluate_items(predictor, val, log_every=0)["dice"], "epochs": report["epochs"]}
        print(f"{name:15s} val Dice {results[name]['val_dice']:.4f}  epochs {report['epochs']}")
    print(json.dumps({"kind": args.kind, "frames": args.frames, "minutes": None if args.epochs else args.minutes,
                      "epochs": args.epochs, **results}))


if __name__ == "__main__":
    main()
