"""TRFE-Net's thyroid region prior against the plain nodule U-Net: same seed, same frames, same budget.

    flock /work/bench.lock python bench/region_prior.py --nodules ../shared/data/ddti \
        --glands ../shared/data/tg3k --epochs 12 --threads 1 [--resolution 128] [--seed 0]

(a) TRFE-Net on the nodule folder's splits/train.txt (nodule masks) interleaved with the gland folder's
splits/train.txt (gland masks); (b) the plain U-Net on the same nodule frames, with the same width, resolution,
batch, learning rate, seed and number of epochs (or, with --minutes, the same wall-clock budget each). A
seeded 10 % of each train split is held out to pick the checkpoint (nodule Dice for both nets). Scored at frame
resolution on each folder's splits/val.txt (never trained on, never selected with): gland Dice on the gland val
frames, nodule Dice with and without the prior on the nodule val frames, and the nodule pixels predicted outside
the predicted gland (the TRFE net's gland map > 0.5 for both nets), with what qualifies that figure: the true
nodule pixels outside the predicted gland, the gland map's mean share of a nodule frame and the median share of
a true nodule inside it. The last stdout line is JSON.

The gland data (TG3K) is research-only: the weights go to --out-root (default: a fresh temporary folder), never
under resources/."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.io.dataset import DatasetItem, list_dataset  # noqa: E402
from core.runtime.metrics import dice  # noqa: E402
from core.runtime.predictor import Predictor  # noqa: E402
from core.training.augment import AUGMENTATIONS  # noqa: E402
from core.training.data import hold_out, load_frames  # noqa: E402
from core.training.frame_task import TrainConfig, train  # noqa: E402
from core.training.progress import TrainEvent, TrainResult  # noqa: E402
from core.training.region_prior_task import RegionPriorConfig, train_region_prior  # noqa: E402

RESOURCES = ROOT / "resources"


def _arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodules", required=True, type=Path, help="nodule dataset (images/, masks/, splits/)")
    p.add_argument("--glands", required=True, type=Path, help="thyroid-gland dataset (images/, masks/, splits/)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, help="epochs of each net (an epoch: every nodule training frame once)")
    budget.add_argument("--minutes", type=float, help="wall-clock budget of each net instead of epochs")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", default="fast")
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=8, help="nodule frames per step (TRFE adds as many glands)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--gland-crop", choices=("none", "content_box"), default="none",
                   help="TG3K frames are already cropped to the image: the scanner-margin crop (content_box) cuts "
                        "17 %% of the gland pixels of its val frames off (the first 120 measured)")
    p.add_argument("--gland-augment", choices=sorted(AUGMENTATIONS), default="standard",
                   help="augmentation of the gland frames (flips: for gland data shipped already augmented, as "
                        "TG3K's training split is); the nodule frames always get the standard one")
    p.add_argument("--nodule-in-gland", type=float, default=0.0,
                   help="weight of the TRFE net's 'a nodule lies inside the gland' term (nodule frames label the "
                        "gland head positive on their nodule pixels); 0 = off")
    p.add_argument("--tta", action="store_true",
                   help="score with horizontal-flip averaging (`predict --tta`), all nets alike")
    p.add_argument("--out-root", type=Path, help="where the two models go (default: a new temporary folder)")
    p.add_argument("--glands-per-nodule", type=int, default=1, help="gland frames paired with each nodule frame")
    p.add_argument("--reuse-plain", type=Path, metavar="RUN",
                   help="train the TRFE net only and score it against the plain net of an earlier run's --out-root "
                        "(same data, seed and budget: the plain net does not depend on the TRFE flags)")
    p.add_argument("--score-only", action="store_true",
                   help="no training: score the trfe.safetensors and plain.safetensors already in --out-root")
    args = p.parse_args()
    if args.epochs is None and args.minutes is None and not args.score_only:
        args.epochs = 12
    if args.score_only and args.out_root is None:
        p.error("--score-only needs --out-root (the folder of an earlier run's models)")
    if args.reuse_plain and not (args.reuse_plain / "plain.safetensors").is_file():
        p.error(f"--reuse-plain: no plain.safetensors in {args.reuse_plain}")
    args.out_root = args.out_root or Path(tempfile.mkdtemp(prefix="sonoclick_region_prior_"))
    if args.out_root.resolve().is_relative_to(RESOURCES.resolve()):
        p.error("--out-root is under resources/: weights trained on the gland data must not ship")
    return args


def _split(root: Path, name: str) -> list[DatasetItem]:
    return list_dataset(root, root / "splits" / f"{name}.txt")


def _log(name: str) -> object:
    def show(event: TrainEvent) -> None:
        if event.kind == "epoch":
            mon = "" if event.monitor_dice is None else f" gland {event.monitor_dice:.4f}"
            print(f"[{name}] epoch {event.epoch} step {event.step} {event.elapsed_s:.0f}s "
                  f"loss {event.losses.get('total', float('nan')):.4f} nodule {event.val_dice:.4f}{mon} "
                  f"{event.frames_per_s:.1f} fr/s", file=sys.stderr, flush=True)
    return show


def _train(args: argparse.Namespace) -> dict:
    """Train the nets and return their run figures (also written to --out-root/runs.json)."""
    nodule_train, nodule_pick = hold_out(_split(args.nodules, "train"), 0.1, args.seed)
    gland_train, gland_pick = hold_out(_split(args.glands, "train"), 0.1, args.seed)
    res = args.resolution
    nodules = load_frames(nodule_train, res, "masks", seed=args.seed)
    crop_glands = args.gland_crop == "content_box"
    glands = load_frames(gland_train, res, "masks", seed=args.seed, crop=crop_glands)
    nodule_val = load_frames(nodule_pick, res, None, keep_full_truth=True)
    gland_val = load_frames(gland_pick, res, None, keep_full_truth=True, crop=crop_glands)
    print(f"[bench] {len(nodules)} nodule + {len(glands)} gland training frames, {len(nodule_val)} + "
          f"{len(gland_val)} held out to pick the checkpoints", file=sys.stderr, flush=True)
    shared = dict(epochs=args.epochs, minutes=args.minutes, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                  threads=args.threads, device=args.device, resolution=res, preset=args.width)
    cfg = RegionPriorConfig(**shared, gland_augment=AUGMENTATIONS[args.gland_augment],
                            nodule_in_gland=args.nodule_in_gland, glands_per_nodule=args.glands_per_nodule)
    trfe = train_region_prior(nodules, glands, nodule_val, gland_val, cfg,
                              args.out_root / "trfe.safetensors", _log("trfe"))
    runs = {"trfe": _run_figures(trfe)}
    if args.reuse_plain:
        shutil.copyfile(args.reuse_plain / "plain.safetensors", args.out_root / "plain.safetensors")
        earlier = args.reuse_plain / "runs.json"
        runs["plain"] = {**(json.loads(earlier.read_text())["plain"] if earlier.exists() else {}),
                         "reused_from": str(args.reuse_plain)}
    else:
        plain = train(nodules, nodule_val, TrainConfig(supervision="masks", **shared),
                      args.out_root / "plain.safetensors", _log("plain"))
        runs["plain"] = _run_figures(plain)
    (args.out_root / "runs.json").write_text(json.dumps(runs))
    return runs


def _score(args: argparse.Namespace, trfe_path: Path, plain_path: Path) -> dict:
    trfe = Predictor.load(trfe_path, device=args.device, threads=args.threads, flip_tta=args.tta)
    plain = Predictor.load(plain_path, device=args.device, threads=args.threads, flip_tta=args.tta)
    gland_name = trfe.heads[1]
    whole = args.gland_crop == "none"
    gland_scores = [dice(trfe.predict_classes(item.frame().gray_u8(), whole_frame=whole)[gland_name] > 0.5,
                         item.mask()) for item in _split(args.glands, "val")]
    prior, bare, outside_prior, outside_plain, truth_outside, truth_px = [], [], 0, 0, 0, 0
    gland_area, truth_inside = [], []
    for item in _split(args.nodules, "val"):
        image, truth = item.frame().gray_u8(), item.mask()
        maps = trfe.predict_classes(image)
        gland = maps[gland_name] > 0.5
        with_prior, without = maps[trfe.heads[0]] > 0.5, plain.predict(image) > 0.5
        prior.append(dice(with_prior, truth))
        bare.append(dice(without, truth))
        outside_prior += int((with_prior & ~gland).sum())
        outside_plain += int((without & ~gland).sum())
        truth_outside += int((truth & ~gland).sum())
        truth_px += int(truth.sum())
        gland_area.append(float(gland.mean()))
        truth_inside.append(float((truth & gland).sum() / max(int(truth.sum()), 1)))
    return {"gland_dice": float(np.mean(gland_scores)), "nodule_dice_prior": float(np.mean(prior)),
            "nodule_dice_plain": float(np.mean(bare)), "outside_gland_px_prior": outside_prior,
            "outside_gland_px_plain": outside_plain, "truth_outside_gland_px": truth_outside,
            "truth_nodule_px": truth_px, "nodule_gland_area_fraction": float(np.mean(gland_area)),
            "truth_inside_gland_median": float(np.median(truth_inside)),
            "n_gland_val": len(gland_scores), "n_nodule_val": len(prior)}


def _run_figures(result: TrainResult) -> dict:
    return {"epochs": result.epochs, "steps": result.steps, "wall_s": round(result.seconds, 1),
            "frames_per_s": round(result.frames_per_s, 2), "best_epoch": result.best_epoch,
            "picked_on_dice": None if result.best_val_dice is None else round(result.best_val_dice, 4)}


def main() -> None:
    args = _arguments()
    runs = {}
    if not args.score_only:
        runs = _train(args)
    scores = _score(args, args.out_root / "trfe.safetensors", args.out_root / "plain.safetensors")
    for name, figures in runs.items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    for key, value in scores.items():
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    budget = {"epochs": args.epochs, "minutes": args.minutes, "threads": args.threads, "seed": args.seed,
              "resolution": args.resolution, "width": args.width, "batch_size": args.batch_size,
              "gland_crop": args.gland_crop, "gland_augment": args.gland_augment,
              "nodule_in_gland": args.nodule_in_gland, "glands_per_nodule": args.glands_per_nodule,
              "tta": args.tta}
    print(json.dumps({**{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()},
                      "budget": budget, "runs": runs, "models": str(args.out_root)}))


if __name__ == "__main__":
    main()
