"""Replays the user's loop headlessly: label 10, 20, 40, 80 frames of the training split with simulated
calipers (jitter 3 px), let the background trainer run after each step with a fixed CPU budget, and print the
validation Dice of each run's model (whether or not it was judged better and switched in) and the NoC@85 of the
interactive engine with it.

    python bench/learning_curve.py --data ../shared/data/ddti [--steps 10,20,40,80] [--minutes 3]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.annotation.caliper_simulation import calipers_from_label_map, jitter_calipers  # noqa: E402
from core.interactive.clicks_benchmark import run_frame, summarise  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.learning.background_trainer import BackgroundTrainer  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.runtime.metrics import dice  # noqa: E402
from core.runtime.predictor import Predictor  # noqa: E402


def evaluate(model_path: Path, val: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    predictor = Predictor.load(model_path, device="cpu", threads=2)
    rng = np.random.default_rng(0)
    dices, runs = [], []
    for image, truth in val:
        probability = predictor.predict(image)
        dices.append(dice(probability > 0.5, truth))
        runs.append(run_frame(image, truth, "none", 20, 0.0, rng, probability))
    summary = summarise(runs, 20)
    return {"val_dice": round(float(np.mean(dices)), 4), "noc85": summary["noc85"], "noc90": summary["noc90"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--steps", default="10,20,40,80")
    parser.add_argument("--minutes", type=float, default=3.0, help="training budget after each step")
    parser.add_argument("--val-limit", type=int, default=100)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    train_items = list_dataset(args.data, args.data / "splits" / "train.txt")
    val_items = list_dataset(args.data, args.data / "splits" / "val.txt")[: args.val_limit]
    val = [(item.frame().gray_u8(), item.mask()) for item in val_items]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(train_items))
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        store = ProjectStore.create(Path(tmp) / "project")
        records = store.add_frames([train_items[i].image_path for i in order[: max(steps)]])
        labelled = 0
        done, outcomes = threading.Event(), []
        trainer = BackgroundTrainer(store, Path(tmp) / "project", lambda e: None,
                                    lambda o: (outcomes.append(o), done.set()), minutes=args.minutes)
        for target in steps:
            for record, k in zip(records[labelled:target], order[labelled:target]):
                calipers = calipers_from_label_map(train_items[k].mask())[0]
                store.set_calipers(record.id, 0, jitter_calipers(calipers, 3.0, rng))
            labelled = target
            done.clear()
            start = time.perf_counter()
            trainer.start()
            done.wait()
            outcome = outcomes[-1]
            row = {"labelled": target, "state": outcome.exit.state.value, "switched": outcome.switched,
                   "train_s": round(time.perf_counter() - start, 1),
                   "internal_val_dice": outcome.version.val_dice if outcome.version else None}
            if outcome.version is not None:  # the run's own version, used or not: what this step's training made
                row.update(evaluate(trainer.registry.path_of(outcome.version), val))
            table.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        store.close()
    print("labelled | val Dice (the run's model) | NoC@85 (engine + model) | NoC@90 | switched")
    for row in table:
        nan = float("nan")
        print(f"{row['labelled']:8d} | {row.get('val_dice', nan):26.4f} | {row.get('noc85', nan):23.2f}"
              f" | {row.get('noc90', nan):6.2f} | {row['switched']}")
    print(json.dumps({"steps": table}))


if __name__ == "__main__":
    main()
