"""One network, one wall-clock budget, one seed, trained from each kind of label; the ProCNS ablation on scribbles.

    python bench/supervision_table.py --data ../shared/data/ddti [--minutes 20 | --epochs N] [--seed 0 | --seeds 0,1,2]
                                      [--threads 2] [--only masks,scribbles_pce,scribbles]
                                      [--out-root /tmp/sonoclick_supervision] [--score-only]

Every run trains the same network (`train --width fast`, default resolution) on splits/train.txt (10 % of it
held out for checkpoint selection, by Dice against those frames' true masks in every row, weak ones included) for
the same number of minutes, one run after the other, and is scored on splits/val.txt, which it never trains on or
selects with. Labels other than masks are simulated from the masks
(calipers with 3 px jitter; scribbles, boxes and points by core.annotation.sparse_simulation). Rows: masks,
calipers, scribbles, boxes and points, each kind of label with the best recipe measured for it (scribbles and
points: `--sparse-pseudo network`, the click network's mask from clicks on the labelled pixels as a pseudo-label,
for scribbles with the region between the strokes added (core.labels.between_strokes) and remade every 25
epochs from the model's prediction; boxes: partial CE), and the ProCNS ablation on
scribbles alone: scribbles_pce (partial CE only), scribbles_prsa (+ PRSA), scribbles_procns (+ PRSA + ANPM).
The rows in ON_REQUEST run only when named in --only. The network rows' click network is the shipped starter
(trained on BUSI): on BUSI pass one trained on other frames (--pseudo-click-model).
Prints a table (val Dice, IoU, HD95 in px, training frames/s, epochs) with each Dice's ratio to masks; the last
stdout line is JSON with each run's val Dice under its name (and the details under "runs"). With --seeds S1,S2,...
each seed's runs go under OUT_ROOT/seedS (the seed changes the held-out selection frames, the initialisation, the
batch order and the simulated labels) and a table of the means over the seeds follows, each row's ratio to masks
given for the means and for each seed; the JSON then holds the means under each run's name."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from child_lifetime import die_with_parent  # noqa: E402

from core.commands.evaluate import evaluate_items  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.runtime.predictor import Predictor  # noqa: E402

NETWORK_PSEUDO = ["--sparse-pseudo", "network"]
RUNS: dict[str, list[str]] = {
    "masks": ["--supervision", "masks"],
    "calipers": ["--supervision", "calipers", "--jitter", "3", "--loss-weights", "pseudo-label"],
    # the best recipe measured for each sparse label (README, "Benchmarks"): scribbles and points train against the
    # click network's mask from clicks on their labelled pixels (scribbles: remade from the model's prediction
    # every 25 epochs), boxes by partial CE
    "scribbles": ["--supervision", "scribbles", *NETWORK_PSEUDO, "--refresh-every", "25"],
    "boxes": ["--supervision", "boxes"],
    "points": ["--supervision", "points", *NETWORK_PSEUDO],
    # the ProCNS ablation on scribbles
    "scribbles_pce": ["--supervision", "scribbles", "--loss-weights", "partial-ce"],
    "scribbles_prsa": ["--supervision", "scribbles", "--loss-weights", "prsa"],
    "scribbles_procns": ["--supervision", "scribbles", "--loss-weights", "procns"],
    # the interactive engine's mask from the labels as a pseudo-label (partial CE + Dice + BCE against it)
    "boxes_engine": ["--supervision", "boxes", "--sparse-pseudo", "engine"],
    "scribbles_engine": ["--supervision", "scribbles", "--sparse-pseudo", "engine"],
    # the click network's pseudo-label: never remade, remade every 25 epochs, with PRSA
    "scribbles_network": ["--supervision", "scribbles", *NETWORK_PSEUDO],
    "points_network_refresh": ["--supervision", "points", *NETWORK_PSEUDO, "--refresh-every", "25"],
    # the click network's probability behind its mask as a soft pseudo-label
    "points_soft": ["--supervision", "points", *NETWORK_PSEUDO, "--soft-pseudo"],
    # the quarter of the pseudo-labels the click network was least sure of left out (their points alone train)
    "points_keep75": ["--supervision", "points", *NETWORK_PSEUDO, "--pseudo-keep", "0.75"],
    # the first click asked over several window sizes, then zoomed round its answer
    "points_zoomed": ["--supervision", "points", *NETWORK_PSEUDO, "--zoomed-start"],
    "scribbles_network_prsa": ["--supervision", "scribbles", *NETWORK_PSEUDO, "--refresh-every", "25",
                               "--loss-weights", "sparse-pseudo,prsa=0.1"],
    "points_network_prsa": ["--supervision", "points", *NETWORK_PSEUDO, "--loss-weights", "sparse-pseudo,prsa=0.1"],
    # the labels alone: partial CE, with PRSA (the train command's default for points)
    "boxes_prsa": ["--supervision", "boxes", "--loss-weights", "partial-ce,prsa=0.1"],
    "points_pce": ["--supervision", "points", "--loss-weights", "partial-ce"],
    "points_prsa": ["--supervision", "points", "--loss-weights", "prsa"],
}

ON_REQUEST = ("boxes_engine", "scribbles_engine", "scribbles_network", "points_network_refresh", "points_soft",
              "points_keep75", "points_zoomed", "scribbles_network_prsa", "points_network_prsa", "boxes_prsa",
              "points_pce", "points_prsa")
TABLE = [name for name in RUNS if name not in ON_REQUEST]  # the table


def _train(name: str, args: argparse.Namespace) -> dict:
    out = args.out_root / name
    out.mkdir(parents=True, exist_ok=True)
    data = args.data
    budget = ["--epochs", str(args.epochs)] if args.epochs else ["--minutes", str(args.minutes)]
    command = [sys.executable, "-m", "core", "train", "--data", str(data), "--split", str(data / "splits/train.txt"),
               *RUNS[name], "--out", str(out), *budget, "--threads", str(args.threads),
               "--seed", str(args.seed), "--width", args.width, "--device", args.device]
    if "network" in RUNS[name]:  # the click network that makes the pseudo-labels
        command += ["--pseudo-click-model", args.pseudo_click_model]
    with open(args.out_root / f"{name}.log", "w") as log:
        print(f"[supervision] training {name} ({budget[1]} {budget[0][2:]}), log {args.out_root / f'{name}.log'}",
              flush=True)
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
                              preexec_fn=die_with_parent)
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


def _score_seed(names: list[str], args: argparse.Namespace, val_items: list, started: float) -> dict[str, dict]:
    """Train (or, --score-only, find) and score every named run of args.seed under args.out_root."""
    scores: dict[str, dict] = {}
    for name in names:
        trained = _trained_earlier(name, args) if args.score_only else _train(name, args)
        predictor = Predictor.load(args.out_root / name / "model.safetensors", device="cpu", threads=args.threads)
        scores[name] = {**evaluate_items(predictor, val_items, log_every=0), **trained}
        print(f"[supervision] {name}: val Dice {scores[name]['dice']:.4f} after {trained['epochs']} epochs "
              f"({(time.time() - started) / 60:.1f} min so far)", flush=True)
    return scores


def _mean_table(per_seed: dict[int, dict[str, dict]]) -> tuple[list[str], dict[str, dict]]:
    """Each run's mean val Dice over the seeds, with the ratio of the means to masks' and each seed's own ratio
    (a row's ratio moves with its seed's masks run, so both are shown)."""
    seeds = list(per_seed)
    with_masks = all("masks" in per_seed[seed] for seed in seeds)
    means: dict[str, dict] = {}
    for name in per_seed[seeds[0]]:
        dices = [per_seed[seed][name]["dice"] for seed in seeds]
        ratios = [round(d / per_seed[seed]["masks"]["dice"], 3) for d, seed in zip(dices, seeds)] if with_masks else []
        means[name] = {"dice": round(sum(dices) / len(dices), 4), "dice_per_seed": dices, "ratio_per_seed": ratios}
    masks = means["masks"]["dice"] if with_masks else None
    rows = [f"{'run':15s} {'mean Dice':>9s} {'Dice/masks':>10s}  per seed: Dice (Dice/masks)"]
    for name, m in means.items():
        m["ratio"] = round(m["dice"] / masks, 4) if masks else None
        ratio = f"{m['dice'] / masks:.3f}" if masks else "n/a"
        per = ([f"{d:.4f} ({r:.3f})" for d, r in zip(m["dice_per_seed"], m["ratio_per_seed"])] if with_masks
               else [f"{d:.4f}" for d in m["dice_per_seed"]])
        rows.append(f"{name:15s} {m['dice']:9.4f} {ratio:>10s}  {', '.join(per)}")
    return rows, means


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--epochs", type=int, help="equal epochs instead of equal minutes (runs may then go in parallel)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", help="comma-separated seeds: each seed's runs go under OUT_ROOT/seedS, and a table of "
                                   "the means over the seeds follows the seeds' own tables")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--width", default="fast")
    p.add_argument("--device", default="cpu")
    p.add_argument("--pseudo-click-model", default="starter",
                   help="the click network that makes the *_network rows' pseudo-labels (default: the shipped starter, "
                        "trained on BUSI: on BUSI itself pass one trained on other frames)")
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
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    root = args.out_root

    started = time.time()
    val_items = list_dataset(args.data, args.data / "splits/val.txt")
    budget = f"{args.epochs} epochs" if args.epochs else f"{args.minutes} min"
    per_seed: dict[int, dict[str, dict]] = {}
    for seed in seeds:
        args.seed, args.out_root = seed, root / f"seed{seed}" if args.seeds else root
        per_seed[seed] = _score_seed(names, args, val_items, started)
        print(f"[supervision] {args.data.name}, {budget} per run, seed {seed}, {args.threads} thread(s), "
              f"val split ({len(val_items)} frames):", flush=True)
        for row in _table(per_seed[seed]):
            print(row, flush=True)
    common = {"minutes": None if args.epochs else args.minutes, "epochs": args.epochs, "threads": args.threads,
              "data": args.data.name}
    if not args.seeds:
        scores = per_seed[seeds[0]]
        summary = {name: s["dice"] for name, s in scores.items()}
        print(json.dumps({**summary, **common, "seed": seeds[0], "runs": scores}))
        return
    rows, means = _mean_table(per_seed)
    print(f"[supervision] mean over seeds {args.seeds}:", flush=True)
    for row in rows:
        print(row, flush=True)
    summary = {name: m["dice"] for name, m in means.items()}
    print(json.dumps({**summary, **common, "seeds": seeds, "means": means,
                      "runs": {str(seed): scores for seed, scores in per_seed.items()}}))


if __name__ == "__main__":
    main()
