"""Replays the user's loop headlessly: label 10, 20, 40, 80 frames of the training split, let the background
trainer run after each step with a fixed CPU budget, and score what each run made (whether or not it was judged
better and switched in) on the validation split.

    python bench/learning_curve.py --data ../shared/data/ddti [--steps 10,20,40,80] [--minutes 3]
                                   [--labels accepted|calipers] [--val-limit 100] [--threads 2] [--seed 0]

--labels accepted (default; both networks): each frame is labelled as in the app by the simulated user of
bench/session.py (calipers with 3 px jitter, then clicks until IoU 0.90 or 20 clicks, with the starter click network
and no frame model, so every step's labels are the same whatever was learnt), and the engine's mask is accepted.
The run trains the frame model (half the budget) and the click network (fine-tuned from the starter, its steps
capped at the whole budget), as `bench/session.py` does. --labels calipers: calipers alone, the frame model alone
(the earlier form of this bench).

Per step: the run's frame model's val Dice, and clicks from scratch on val (the interactive engine starting from
that model's prediction, RITM's simulated user) with the starter click network and with the run's own click
network, and the run's click network with no frame model: NoC@85 / NoC@90. The row `0` is the starter click network
with no frame model."""
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
from core.interactive.click_network import ClickPredictor  # noqa: E402
from core.interactive.clicks_benchmark import run_frame, summarise  # noqa: E402
from core.interactive.starter_models import resolve_model_argument  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.learning.background_trainer import BackgroundTrainer, TrainingOutcome  # noqa: E402
from core.learning.session_replay import (  # noqa: E402
    ReplayConfig,
    ReplayFrame,
    label_frame,
    replay_frames,
    store_accepted,
)
from core.learning.versions import USE_STARTER_KEY  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.runtime.metrics import dice  # noqa: E402
from core.runtime.predictor import Predictor  # noqa: E402

MAX_CLICKS = 20


def clicks_on(val: list[tuple[np.ndarray, np.ndarray]], probabilities: list[np.ndarray | None],
              click_model: ClickPredictor | None) -> dict:
    """NoC@85 / NoC@90 of the engine from scratch on the val frames, from each frame's prediction (if any)."""
    rng = np.random.default_rng(0)
    runs = [run_frame(image, truth, "none", MAX_CLICKS, 0.0, rng, probability, click_model)
            for (image, truth), probability in zip(val, probabilities)]
    summary = summarise(runs, MAX_CLICKS)
    return {"noc85": summary["noc85"], "noc90": summary["noc90"]}


def score_run(outcome: TrainingOutcome, trainer: BackgroundTrainer, val: list[tuple[np.ndarray, np.ndarray]],
              starter: ClickPredictor, threads: int) -> dict:
    row: dict = {}
    probabilities: list[np.ndarray | None] = [None] * len(val)
    if outcome.version is not None:
        predictor = Predictor.load(trainer.registry.path_of(outcome.version), device="cpu", threads=threads)
        probabilities = [predictor.predict(image) for image, _ in val]
        row["val_dice"] = round(float(np.mean([dice(p > 0.5, t) for p, (_, t) in zip(probabilities, val)])), 4)
    row["starter_click"] = clicks_on(val, probabilities, starter)
    if outcome.click_version is not None:
        own = ClickPredictor.load(trainer.click_registry.path_of(outcome.click_version), threads=threads)
        row["own_click"] = clicks_on(val, probabilities, own)
        row["own_click_alone"] = clicks_on(val, [None] * len(val), own)
    return row


def label_step(store: ProjectStore, records: list, frames: list[ReplayFrame], labels: str,
               starter: ClickPredictor, rng: np.random.Generator) -> None:
    cfg = ReplayConfig(policy="calipers")
    for record, frame in zip(records, frames):
        if labels == "calipers":
            calipers = calipers_from_label_map(frame.truth)[0]
            store.set_calipers(record.id, 0, jitter_calipers(calipers, 3.0, rng))
        else:
            mask, calipers, points, _ = label_frame(frame, None, starter, "calipers", cfg, rng)
            store_accepted(store, record.id, mask, calipers, points)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--steps", default="10,20,40,80")
    parser.add_argument("--minutes", type=float, default=3.0, help="training budget after each step")
    parser.add_argument("--labels", choices=("accepted", "calipers"), default="accepted")
    parser.add_argument("--val-limit", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    val_items = list_dataset(args.data, args.data / "splits" / "val.txt")[: args.val_limit]
    val = [(item.frame().gray_u8(), item.mask()) for item in val_items]
    val = [(image, truth) for image, truth in val if truth is not None and truth.any()]
    rng = np.random.default_rng(args.seed)  # the frames' order, then the calipers' jitter
    frames = replay_frames(list_dataset(args.data, args.data / "splits" / "train.txt"), rng, max(steps))
    starter = ClickPredictor.load(resolve_model_argument("starter", "click"), threads=args.threads)
    table = [{"labelled": 0, "starter_click": clicks_on(val, [None] * len(val), starter)}]
    print(json.dumps(table[0]), file=sys.stderr, flush=True)
    networks = ("frame", "click") if args.labels == "accepted" else ("frame",)
    with tempfile.TemporaryDirectory() as tmp:
        store = ProjectStore.create(Path(tmp) / "project")
        store.set_setting(USE_STARTER_KEY, True)
        records = store.add_frames([f.image_path for f in frames])
        done, outcomes = threading.Event(), []
        trainer = BackgroundTrainer(store, Path(tmp) / "project", lambda e: None,
                                    lambda o: (outcomes.append(o), done.set()), minutes=args.minutes / len(networks),
                                    networks=networks, click_minutes=args.minutes)
        trainer.threads, trainer.seed = args.threads, args.seed
        labelled = 0
        for target in steps:
            label_step(store, records[labelled:target], frames[labelled:target], args.labels, starter, rng)
            labelled = target
            done.clear()
            start = time.perf_counter()
            if not trainer.start():
                raise SystemExit(f"[learning_curve] the background trainer would not start at {target} frames")
            done.wait()
            outcome = outcomes[-1]
            row = {"labelled": target, "state": outcome.exit.state.value, "switched": outcome.switched,
                   "click_switched": outcome.click_switched, "train_s": round(time.perf_counter() - start, 1),
                   **score_run(outcome, trainer, val, starter, args.threads)}
            table.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        store.close()
    print_table(table)
    print(json.dumps({"labels": args.labels, "steps": table}))


def print_table(table: list[dict]) -> None:
    nan = float("nan")
    print("NoC@85 / NoC@90 from scratch on val; frame = the run's frame model's prediction to start from")
    print("labelled | frame val Dice | starter click + frame | own click + frame | own click alone | "
          "switched frame / click")
    for row in table:
        cells = [row.get(key, {}) for key in ("starter_click", "own_click", "own_click_alone")]
        nocs = " | ".join(f"{c.get('noc85', nan):6.2f} / {c.get('noc90', nan):5.2f}".ljust(w)
                          for c, w in zip(cells, (21, 17, 15)))
        print(f"{row['labelled']:8d} | {row.get('val_dice', nan):14.4f} | {nocs} | "
              f"{row.get('switched', '-')} / {row.get('click_switched', '-')}")


if __name__ == "__main__":
    main()
