"""`python -m core train`: train a segmentation network from calipers, clicks, masks or sparse labels
(scribbles, boxes, points, simulated from masks) into RUN_DIR; with --glands DIR, the region-prior network
(TRFE-Net: a nodule head guided by a thyroid-gland head, trained from the two folders' masks).

Writes RUN_DIR/model.safetensors (best validation Dice) and RUN_DIR/history.json; creating RUN_DIR/STOP
stops the run early (the best model so far is kept). Under torchrun every rank runs this same command."""
from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from core.errors import SonoClickError
from core.interactive.click_network import ClickPredictor
from core.interactive.sparse_pseudo import mask_from_labels
from core.interactive.starter_models import resolve_model_argument
from core.interactive.stroke_mask import mask_from_strokes
from core.io.dataset import list_dataset
from core.training.augment import AUGMENTATIONS
from core.training.click_task import CLICK_PRESET, CLICK_RESOLUTION, ClickTrainConfig
from core.training.data import SparsePseudo, data_hash, hold_out, load_frames
from core.training.distributed import is_rank0
from core.training.frame_task import TrainConfig, train
from core.training.progress import StopSignal, TrainEvent, TrainResult
from core.training.pseudo_selection import keep_confident_pseudo
from core.training.targets import SUPERVISIONS
from models.losses import LOSS_PRESETS, LossWeights
from models.preprocess import DEFAULT_RESOLUTION
from models.unet import PRESETS

MODEL_FILE = "model.safetensors"
DEFAULT_EPOCHS = 60


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, help="dataset folder (images/, masks/, labels/)")
    p.add_argument("--split", type=Path, help="stems to train on, one per line (default: every image)")
    p.add_argument("--supervision", choices=(*SUPERVISIONS, "interactive"), default="calipers",
                   help="calipers, clicks or masks: a frame model; scribbles, boxes or points: a frame model from "
                        "sparse labels simulated from masks (partial CE, optionally ProCNS); interactive: the "
                        "click-conditioned network of the interactive engine, trained with a simulated user from masks")
    p.add_argument("--out", required=True, type=Path, help="run folder for model.safetensors and history.json")
    p.add_argument("--epochs", type=int, help=f"epoch limit (default {DEFAULT_EPOCHS} when --minutes is not given)")
    p.add_argument("--minutes", type=float, help="wall-clock budget; the LR schedule spans it")
    p.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, mps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jitter", type=float, default=0.0, help="Gaussian jitter (px) of calipers simulated from masks")
    p.add_argument("--val-split", type=Path, help="validation stems (default: a seeded 10%% of --split with masks)")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--width", choices=sorted(PRESETS), default=None,
                   help=f"network width preset (default fast; {CLICK_PRESET} for interactive, which runs per click)")
    p.add_argument("--resolution", type=int, default=None,
                   help=f"working resolution (square, multiple of 16; default {DEFAULT_RESOLUTION}, "
                        f"{CLICK_RESOLUTION} for interactive)")
    p.add_argument("--batch-size", type=int, default=None, help="default 8 (16 for interactive)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--refresh-every", type=int, default=0,
                   help="epochs between label refreshes (calipers; with --sparse-pseudo network, the click network "
                        "remakes each frame's mask from its labels starting from the model's prediction)")
    p.add_argument("--ds-prior", action="store_true", help="add the Distance-Similarity prior as an input channel")
    p.add_argument("--loss-weights", default="",
                   help=f"[recipe][,term=w...]: recipe {', '.join(LOSS_PRESETS)} (default per supervision: "
                        + ", ".join(f"{sup} {recipe}" for sup, recipe in DEFAULT_RECIPE.items())
                        + "; boxes add projection=1), then overrides, e.g. hcl-hrl,contrastive=0 or procns,pseudo_ce=0")
    p.add_argument("--sparse-pseudo", choices=("none", "engine", "network"), default="none",
                   help="a mask made from each frame's sparse labels, trained on as a pseudo-label (recipe "
                        "sparse-pseudo: partial CE + Dice + BCE against it): engine = the interactive engine's graph "
                        "cut from the strokes (scribbles, boxes); network = the click network's mask from clicks on "
                        "the labelled pixels (scribbles, points)")
    p.add_argument("--soft-pseudo", action="store_true",
                   help="--sparse-pseudo network: train towards the click network's probability behind its mask "
                        "(>= 0.5 exactly on the mask, 1 / 0 on the labelled pixels) instead of the 0/1 mask")
    p.add_argument("--pseudo-keep", type=float, default=1.0,
                   help="--sparse-pseudo network: keep the pseudo-labels of this fraction of the frames, those the "
                        "click network was surest of; the others train on their drawn labels alone")
    p.add_argument("--zoomed-start", action="store_true",
                   help="--sparse-pseudo network: ask the first click over several window sizes, then once more "
                        "zoomed round that answer (core.interactive.zoomed_start), before the other clicks; with "
                        "--refresh-every, the remade masks start from its average with the model's prediction")
    p.add_argument("--pseudo-click-model", default="starter",
                   help="--sparse-pseudo network: the click network's checkpoint, or starter (the shipped one)")
    p.add_argument("--monitor-split", type=Path, help="report-only Dice per epoch on these stems (never selects)")
    p.add_argument("--glands", type=Path,
                   help="second dataset folder whose masks/ outline the thyroid gland: trains the region-prior "
                        "network (TRFE-Net: nodule and gland heads, each frame supervising its own head) with "
                        "--supervision masks; a seeded 10%% of it is held out for the gland Dice")
    p.add_argument("--gland-split", type=Path, help="gland stems to train on (default: every image of --glands)")
    p.add_argument("--glands-uncropped", action="store_true",
                   help="the gland frames are already cropped to the image (TG3K): do not cut scanner margins, "
                        "which there would cut into the gland")
    p.add_argument("--gland-augment", choices=sorted(AUGMENTATIONS), default="standard",
                   help="augmentation of the gland frames: flips for gland data shipped already augmented (TG3K)")
    p.add_argument("--nodule-in-gland", type=float, default=0.0,
                   help="weight of 'a nodule lies inside the gland': nodule frames label the gland head positive "
                        "on their nodule pixels (default 0: off)")
    p.add_argument("--glands-per-nodule", type=int, default=1, help="gland frames paired with each nodule frame")


def _print_event(event: TrainEvent) -> None:
    if event.kind == "epoch":
        val = "n/a" if event.val_dice is None else f"{event.val_dice:.4f}"
        mon = "" if event.monitor_dice is None else f" monitor {event.monitor_dice:.4f}"
        loss = event.losses.get("total", float("nan"))
        print(f"[train] epoch {event.epoch} step {event.step} {event.elapsed_s:.0f}s loss {loss:.4f} val {val}"
              f"{mon} {event.frames_per_s:.1f} fr/s eta {event.eta_s or 0:.0f}s", file=sys.stderr, flush=True)
    elif event.kind == "refresh":
        print(f"[train] labels refreshed at epoch {event.epoch}", file=sys.stderr, flush=True)


# sparse labels: partial CE + PRSA for scribbles (it beat both partial CE alone and PRSA + ANPM) and points (it beat
# partial CE alone); boxes keep partial CE, which beat + PRSA (README, "Benchmarks", 20-minute supervision tables)
DEFAULT_RECIPE = {"calipers": "pseudo-label", "clicks": "hcl-hrl", "masks": "hcl-hrl", "scribbles": "prsa",
                  "boxes": "partial-ce", "points": "prsa"}
SUPERVISION_TERMS = {"boxes": {"projection": 1.0}}  # a box's tightness term, whatever the recipe
PSEUDO_SUPERVISIONS = {  # what each --sparse-pseudo can start from
    "engine": ("scribbles", "boxes"),  # points have no stroke the engine could start from
    "network": ("scribbles", "points"),  # a box has no labelled nodule pixel to click on
}


def _loss_weights(text: str, supervision: str, pseudo: bool = False) -> LossWeights:
    """'[preset][,term=number...]': a named recipe (default per supervision) with optional overrides."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    preset = "sparse-pseudo" if pseudo else DEFAULT_RECIPE.get(supervision, "hcl-hrl")
    if parts and "=" not in parts[0]:
        preset = parts.pop(0)
        if preset not in LOSS_PRESETS:
            raise SonoClickError(f"--loss-weights: unknown recipe {preset!r} (known: {', '.join(LOSS_PRESETS)})")
    fields = LOSS_PRESETS[preset].to_dict()
    overrides = dict(SUPERVISION_TERMS.get(supervision, {}))
    for part in parts:
        key, _, value = part.partition("=")
        if key not in fields:
            raise SonoClickError(f"--loss-weights: unknown term {key!r} (known: {', '.join(fields)})")
        try:
            overrides[key] = float(value)
        except ValueError as exc:
            raise SonoClickError(f"--loss-weights: {part!r} is not term=number") from exc
    return LossWeights(**{**fields, **overrides})


def run(args: argparse.Namespace) -> dict:
    if args.width is None:
        args.width = CLICK_PRESET if args.supervision == "interactive" else "fast"
    if args.resolution is None:
        args.resolution = CLICK_RESOLUTION if args.supervision == "interactive" else DEFAULT_RESOLUTION
    if args.batch_size is None:
        args.batch_size = ClickTrainConfig.batch_size if args.supervision == "interactive" else TrainConfig.batch_size
    if args.resolution % 16:
        raise SonoClickError(f"--resolution must be a multiple of 16, not {args.resolution}")
    items = list_dataset(args.data, args.split)
    if args.val_split:
        train_items, val_items = items, list_dataset(args.data, args.val_split)
        overlap = {i.stem for i in train_items} & {i.stem for i in val_items}
        if overlap:
            raise SonoClickError(f"--val-split shares {len(overlap)} stems with the training split")
    else:
        train_items, val_items = hold_out(items, 0.1, args.seed)
    if args.supervision == "interactive":
        return _run_interactive(args, train_items, val_items)
    if args.glands is not None:
        return _run_region_prior(args, train_items, val_items)
    extra = ("ds_prior",) if args.ds_prior else ()
    pseudo = args.sparse_pseudo != "none"
    if pseudo and args.supervision not in PSEUDO_SUPERVISIONS[args.sparse_pseudo]:
        raise SonoClickError(f"--sparse-pseudo {args.sparse_pseudo} needs --supervision "
                             f"{' or '.join(PSEUDO_SUPERVISIONS[args.sparse_pseudo])}")
    cfg = TrainConfig(
        supervision=args.supervision, preset=args.width, resolution=args.resolution,
        epochs=args.epochs if args.epochs or args.minutes else DEFAULT_EPOCHS, minutes=args.minutes,
        batch_size=args.batch_size, lr=args.lr, seed=args.seed, threads=args.threads, device=args.device,
        refresh_every=args.refresh_every, extra_channels=extra,
        loss_weights=_loss_weights(args.loss_weights, args.supervision, pseudo),
    )
    if (args.soft_pseudo or args.pseudo_keep < 1.0 or args.zoomed_start) and args.sparse_pseudo != "network":
        raise SonoClickError("--soft-pseudo, --pseudo-keep and --zoomed-start need --sparse-pseudo network")
    if not 0.0 < args.pseudo_keep <= 1.0:
        raise SonoClickError(f"--pseudo-keep must be in (0, 1], got {args.pseudo_keep}")
    if args.soft_pseudo and args.pseudo_keep < 1.0:
        raise SonoClickError("--pseudo-keep trains on hard pseudo-labels; it cannot go with --soft-pseudo")
    if pseudo and (cfg.loss_weights.pseudo_ce or cfg.loss_weights.noisy_dice):
        raise SonoClickError(f"--sparse-pseudo {args.sparse_pseudo} is a fixed pseudo-label; ProCNS's phase 2 "
                             "(pseudo_ce, noisy_dice) would replace it with its own")
    print(f"[train] loading {len(train_items)} training and {len(val_items)} validation frames", file=sys.stderr)
    started = time.perf_counter()
    click_model = _pseudo_click_model(args)
    frames = load_frames(train_items, cfg.resolution, cfg.supervision, args.jitter, args.seed, extra_channels=extra,
                         sparse_pseudo=_sparse_pseudo(args, click_model))
    if args.pseudo_keep < 1.0:
        dropped = keep_confident_pseudo(frames, args.pseudo_keep)
        print(f"[train] {dropped} frames train on their drawn labels alone (the click network's least sure "
              "pseudo-labels)", file=sys.stderr)
    load_s = time.perf_counter() - started
    val_frames = load_frames(val_items, cfg.resolution, "calipers" if extra else None, 0.0, args.seed,
                             keep_full_truth=True, extra_channels=extra)
    monitor = None
    if args.monitor_split:
        monitor = load_frames(list_dataset(args.data, args.monitor_split), cfg.resolution,
                              "calipers" if extra else None, 0.0, args.seed, keep_full_truth=True,
                              extra_channels=extra)
    args.out.mkdir(parents=True, exist_ok=True)
    stop = StopSignal(args.out / "STOP")
    metadata = {"data_hash": data_hash(train_items, args.supervision, args.jitter, args.seed),
                "n_train": len(frames), "n_val": len(val_frames)}
    if pseudo:
        metadata["sparse_pseudo"] = args.sparse_pseudo
        print(f"[train] training frames and their {args.sparse_pseudo} pseudo-labels made in {load_s:.0f} s",
              file=sys.stderr)
    refresh = None if click_model is None else partial(_refreshed_pseudo, click_model, _drawn_round(args),
                                                       args.soft_pseudo, args.zoomed_start)
    result = train(frames, val_frames, cfg, args.out / MODEL_FILE, _print_event, stop, monitor, metadata,
                   pseudo_refresh=refresh)
    if not is_rank0():
        return None  # under torchrun only rank 0 reports
    return _report(args, result)


def _pseudo_click_model(args: argparse.Namespace) -> ClickPredictor | None:
    if args.sparse_pseudo != "network":
        return None
    return ClickPredictor.load(resolve_model_argument(args.pseudo_click_model, "click"), threads=args.threads)


def _sparse_pseudo(args: argparse.Namespace, click_model: ClickPredictor | None) -> SparsePseudo | None:
    if args.sparse_pseudo == "engine":
        return lambda image, labels: mask_from_strokes(image, labels.strokes)
    if click_model is None:
        return None
    between, soft = _drawn_round(args), args.soft_pseudo or args.pseudo_keep < 1.0
    return lambda image, labels: mask_from_labels(image, labels.foreground, labels.background, click_model,
                                                  between_strokes=between, soft=soft, zoomed_start=args.zoomed_start)


def _drawn_round(args: argparse.Namespace) -> bool:
    """Whether the background labels are strokes drawn round the nodule (scribbles), so the pseudo-label may take
    the region between the strokes; single points' few background discs bound nothing."""
    return args.supervision == "scribbles"


def _refreshed_pseudo(click_model: ClickPredictor, between_strokes: bool, soft: bool, zoomed_start: bool,
                      image: np.ndarray, foreground: np.ndarray, background: np.ndarray, probability: np.ndarray
                      ) -> np.ndarray:
    return mask_from_labels(image, foreground, background, click_model, probability=probability,
                            between_strokes=between_strokes, soft=soft, zoomed_start=zoomed_start)


def _report(args: argparse.Namespace, result: TrainResult) -> dict:
    (args.out / "history.json").write_text(json.dumps(result.history, indent=1))
    return {
        "epochs": result.epochs,
        "seconds": round(result.seconds, 1),
        "best_val_dice": None if result.best_val_dice is None else round(result.best_val_dice, 4),
        "best_epoch": result.best_epoch,
        "steps": result.steps,
        "frames_per_s": round(result.frames_per_s, 2),
        "stopped_by": result.stopped_by,
        "model": str(result.checkpoint),
    }


def _run_interactive(args: argparse.Namespace, train_items: list, val_items: list) -> dict:
    from core.training.click_task import train_click_model

    cfg = ClickTrainConfig(
        preset=args.width, resolution=args.resolution,
        epochs=args.epochs if args.epochs or args.minutes else DEFAULT_EPOCHS, minutes=args.minutes,
        lr=args.lr, seed=args.seed, threads=args.threads, device=args.device,
        batch_size=args.batch_size,
    )
    print(f"[train] loading {len(train_items)} training and {len(val_items)} validation frames", file=sys.stderr)
    frames, val_frames = _click_frames(train_items), _click_frames(val_items)
    args.out.mkdir(parents=True, exist_ok=True)
    metadata = {"data_hash": data_hash(train_items, "interactive", 0.0, args.seed), "n_train": len(frames),
                "n_val": len(val_frames)}
    result = train_click_model(frames, val_frames, cfg, args.out / MODEL_FILE, _print_event,
                               StopSignal(args.out / "STOP"), metadata)
    return _report(args, result)


def _run_region_prior(args: argparse.Namespace, train_items: list, val_items: list) -> dict:
    from core.training.region_prior_task import RegionPriorConfig, train_region_prior

    if args.supervision != "masks" or args.ds_prior:
        raise SonoClickError("--glands trains the region-prior network from masks: give --supervision masks "
                             "(and no --ds-prior)")
    gland_items, gland_val_items = hold_out(list_dataset(args.glands, args.gland_split), 0.1, args.seed)
    cfg = RegionPriorConfig(
        preset=args.width, resolution=args.resolution,
        epochs=args.epochs if args.epochs or args.minutes else DEFAULT_EPOCHS, minutes=args.minutes,
        batch_size=args.batch_size, lr=args.lr, seed=args.seed, threads=args.threads, device=args.device,
        gland_augment=AUGMENTATIONS[args.gland_augment], nodule_in_gland=args.nodule_in_gland,
        glands_per_nodule=args.glands_per_nodule,
    )
    print(f"[train] loading {len(train_items)} + {len(val_items)} nodule and {len(gland_items)} + "
          f"{len(gland_val_items)} gland frames (training + validation)", file=sys.stderr)
    crops = (True, not args.glands_uncropped)
    frames = [load_frames(items, cfg.resolution, "masks", seed=args.seed, crop=crop)
              for items, crop in zip((train_items, gland_items), crops)]
    val = [load_frames(items, cfg.resolution, None, keep_full_truth=True, crop=crop)
           for items, crop in zip((val_items, gland_val_items), crops)]
    args.out.mkdir(parents=True, exist_ok=True)
    metadata = {"data_hash": data_hash([*train_items, *gland_items], "masks+glands", 0.0, args.seed),
                "n_train": len(frames[0]), "n_train_glands": len(frames[1]), "n_val": len(val[0]),
                "n_val_glands": len(val[1]), "gland_frames_cropped": crops[1]}
    result = train_region_prior(*frames, *val, cfg, args.out / MODEL_FILE, _print_event,
                                StopSignal(args.out / "STOP"), metadata)
    return _report(args, result)


def _click_frames(items: list) -> list:
    from core.training.click_samples import ClickFrame

    frames = []
    for item in items:
        truth = item.mask()
        if truth is None:
            raise SonoClickError(f"{item.image_path}: --supervision interactive needs masks/{item.stem}.png")
        if truth.any():
            frames.append(ClickFrame(item.stem, item.frame().gray_u8(), truth))
    return frames
