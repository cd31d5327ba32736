"""`python -m core train-project`: the background trainer's job, run in its own process by core.learning.job_process.
Reads a project snapshot, trains with mixed supervision, scores the new model and the current one on the same
validation frames, and reports everything as JSON lines on stdout (one object per line). A snapshot with
thyroid-gland masks besides nodule masks trains TRFE-Net (core.learning.region_prior_round) instead of the plain
network; it predicts the same nodule map, and its checkpoint lists the heads. The region prior takes masks only:
with calipers, clicks or strokes among the nodule labels the plain network trains, and the report says why."""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from core.annotation.strokes import StrokeKind
from core.errors import SonoClickError
from core.interactive.click_network import ClickPredictor
from core.io.readers import read_frame
from core.learning.job_process import STOP_FILE_ENV
from core.learning.mixed_supervision import split_for_validation, to_training_frame
from core.learning.region_prior_round import train_region_prior_round
from core.learning.snapshot import LabelledFrame, read_snapshot
from core.learning.tag_supervision import needs_tag_training, tag_frames
from core.runtime.metrics import dice
from core.training.frame_task import TrainConfig, train
from core.training.presence_gate_fit import fit_checkpoint_gate
from core.training.progress import StopSignal, TrainEvent, TrainResult
from core.training.region_prior_task import RegionPriorConfig
from core.training.tag_task import TAG_STARTS, TagTrainConfig, train_from_tags
from models.checkpoint import read_metadata
from models.losses import LOSS_PRESETS, LossWeights
from models.networks import metadata_heads
from models.preprocess import DEFAULT_RESOLUTION
from models.presence_gate import NODULE_FRAMES_KEPT

MODEL_FILE = "model.safetensors"
CLICK_MODEL_FILE = "click_model.safetensors"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--snapshot", required=True, type=Path, help="snapshot.json written by the app")
    p.add_argument("--out", required=True, type=Path, help="run folder")
    p.add_argument("--minutes", type=float, help="wall-clock training budget (default 3 without --epochs)")
    p.add_argument("--epochs", type=int, help="epoch limit (with or instead of --minutes)")
    p.add_argument("--baseline", type=Path, help="the model in use now, scored on the same validation frames")
    p.add_argument("--init", type=Path, help="fine-tune from this model (same architecture)")
    p.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) - 1),
                   help="CPU threads (default: all cores but one, left to the app)")
    p.add_argument("--device", default="auto")
    p.add_argument("--preset", default="fast")
    p.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--prsa", type=float,
                   help="weight of ProCNS's PRSA term in the frame network's loss (default: the prsa recipe's "
                        f"{LOSS_PRESETS['prsa'].prsa} when a training frame without mask or calipers has scribbles or "
                        "only single points, else 0)")
    p.add_argument("--negative-share", type=float, default=TrainConfig().negative_share,
                   help="frames tagged no nodule fill at most this share of the frame network's epoch (1: their "
                        "natural share)")
    p.add_argument("--tag-start", choices=TAG_STARTS, default=TagTrainConfig().tag_start,
                   help="frames tagged nodule present with nothing drawn: dark_blob starts each from a model-free "
                        "draft (a breast-lesion prior: on thyroid frames it scores below a centred ellipse; README); "
                        "one_click from the click network's answer to one click where a nodule is likely (the one in "
                        "use, --click-baseline, else the shipped starter; core.interactive.one_click_draft)")
    p.add_argument("--self-training-click", action="store_true",
                   help="with --tag-start one_click: each self-training mask of those frames is the frame network's "
                        "own refined by one click at its deepest point (core.interactive.one_click_draft."
                        "one_click_refinement)")
    p.add_argument("--networks", default="frame,click",
                   help="which networks to train, comma-separated: frame (from every label), click (from accepted "
                        "masks)")
    p.add_argument("--click-init", type=Path, help="fine-tune the click network from this one (default: scratch)")
    p.add_argument("--click-baseline", type=Path,
                   help="the click network in use, scored on the same held-out masks (default: none in use)")
    p.add_argument("--sparse-pseudo", choices=("engine", "network"), default="engine",
                   help="pseudo-label of a frame with only scribbles, clicks or single points: engine = the "
                        "interactive engine's mask from its strokes (none for clicks or points alone); network = the "
                        "click network in use (--click-baseline)'s mask from them (boxes always take the engine's). "
                        "Default engine: on a 60-frame scribbled DDTI project network scored 0.562 val Dice against "
                        "0.577 (README, \"Benchmarks\")")
    p.add_argument("--click-minutes", type=float, help="the click network's budget (default: as --minutes)")
    p.add_argument("--click-steps", type=int, default=100, help="at most this many click-network steps")


def emit(event: dict) -> None:
    print(json.dumps(event), flush=True)


def _progress(event: TrainEvent, network: str = "frame") -> None:
    if event.kind in ("epoch", "step", "refresh"):
        emit({"event": "progress", **{k: v for k, v in asdict(event).items() if k != "kind"}, "kind": event.kind,
              "network": network})


def score(model_path: Path, images: list[np.ndarray], truths: list[np.ndarray], threads: int,
          device: str) -> list[float]:
    """Dice per frame at full frame resolution, the way the app will use the model."""
    if not images:
        return []
    from core.runtime.predictor import Predictor

    predictor = Predictor.load(model_path, device=device, threads=threads)
    return [float(dice(predictor.predict(image) > 0.5, truth)) for image, truth in zip(images, truths)]


def _clicks_from(model_path: Path | None, images: list[np.ndarray], truths: list[np.ndarray],
                 args: argparse.Namespace) -> list[float]:
    """The simulated user's NoC@85 per frame, starting from the frame model's prediction (None: no prediction),
    with the click network in use."""
    from core.learning.click_round import noc_per_frame
    from core.training.click_samples import ClickFrame

    probabilities: list = [None] * len(images)
    if model_path is not None and images:
        from core.runtime.predictor import Predictor

        predictor = Predictor.load(model_path, device=args.device, threads=args.threads)
        probabilities = [predictor.predict(image) for image in images]
    frames = [ClickFrame(str(k), image, truth) for k, (image, truth) in enumerate(zip(images, truths))]
    return noc_per_frame(args.click_baseline, frames, args.threads, probabilities)


def _mean(values: list[float] | None) -> float | None:
    return float(np.mean(values)) if values else None


def run(args: argparse.Namespace) -> dict | None:
    if args.self_training_click and args.tag_start != "one_click":  # refused before any work, tags or none
        raise SonoClickError("--self-training-click needs --tag-start one_click (its click network refines)")
    emit({"event": "state", "state": "training"})
    if args.minutes is None and args.epochs is None:
        args.minutes = 3.0
    networks = {n.strip() for n in args.networks.split(",") if n.strip()}
    entries = read_snapshot(args.snapshot)
    stop = StopSignal(os.environ.get(STOP_FILE_ENV))
    done: dict = {"event": "done"}
    if "frame" in networks:
        done.update(_frame_round(args, entries, stop))
    if "click" in networks and not stop.requested:
        done["click"] = _click_round(args, entries, stop)
    emit(done)
    print(f"[train-project] done: {json.dumps({k: v for k, v in done.items() if 'scores' not in k})}",
          file=sys.stderr)
    return None


def _frame_round(args: argparse.Namespace, entries: list[LabelledFrame], stop: StopSignal) -> dict:
    nodule_entries = [e for e in entries if e.has_nodule_labels]  # not the frames with only a gland mask
    train_entries, val_entries, validated_on = split_for_validation(nodule_entries, args.seed)
    pseudo_model = _pseudo_click_model(args, train_entries)
    frames = [to_training_frame(args.snapshot, e, args.resolution, click_model=pseudo_model) for e in train_entries]
    val_frames = [to_training_frame(args.snapshot, e, args.resolution, for_validation=True) for e in val_entries]
    # frames with only sparse labels (scribbles, boxes, points) train through partial CE, not as masks
    weak = any(f.calipers for f in frames) or any((e.strokes or e.positives) and not e.has_mask
                                                  for e in train_entries)
    n_gland = sum(e.gland_mask_file is not None for e in entries)
    emit({"event": "data", "n_train": len(frames), "n_val": len(val_frames), "validated_on": validated_on,
          "n_gland": n_gland})
    out = args.out / MODEL_FILE
    metadata = {"trained_on": f"project snapshot {args.snapshot}", "n_train": len(frames)}
    note = {}
    if needs_tag_training(train_entries):
        # frames tagged "nodule present" with nothing drawn: the mixed-supervision task, from scratch (its class
        # head is not part of a version's weights, so there is nothing to fine-tune it from)
        tag_cfg = TagTrainConfig(preset=args.preset, resolution=args.resolution, epochs=args.epochs,
                                 minutes=args.minutes, seed=args.seed, threads=args.threads, device=args.device,
                                 tag_start=args.tag_start, self_training_click=args.self_training_click,
                                 tag_click_model=None if args.click_baseline is None else str(args.click_baseline),
                                 presence_gate=False)  # fitted below, as for every frame model
        result = train_from_tags(tag_frames(train_entries, frames), tag_cfg, out, on_event=_progress, stop=stop,
                                 metadata=metadata)[0]
    elif n_gland and not weak:
        cfg = RegionPriorConfig(preset=args.preset, resolution=args.resolution, epochs=args.epochs,
                                minutes=args.minutes, seed=args.seed, threads=args.threads, device=args.device)
        result = train_region_prior_round(args.snapshot, entries, list(zip(train_entries, frames)),
                                          list(zip(val_entries, val_frames)), cfg, out, _progress, stop, metadata)
    else:
        if n_gland:
            note = {"region_prior": "not trained: the nodule labels include calipers, clicks or strokes, and the "
                                    "region prior learns from masks only"}
        cfg = TrainConfig(supervision="calipers" if weak else "masks", preset=args.preset,
                          resolution=args.resolution, epochs=args.epochs, minutes=args.minutes, seed=args.seed,
                          threads=args.threads, device=args.device, negative_share=args.negative_share,
                          loss_weights=replace(LossWeights(), prsa=_prsa_weight(args, train_entries)))
        # the held-out frames judge the new model against the one in use: picking its best epoch on them as
        # well would flatter it on exactly those frames, so the run keeps its last (EMA) weights
        result = train(frames, [], cfg, out, on_event=_progress, stop=stop, metadata=metadata,
                       init_weights=_single_head(args.init))
    if out.exists():
        fit_checkpoint_gate(out, [f.image for f in frames], [not e.no_nodule for e in train_entries],
                            NODULE_FRAMES_KEPT, held_out_nodule_images=[f.image for f in val_frames])
    emit({"event": "state", "state": "evaluating"})
    return {**_scored(args, out, val_entries, [f.truth_full for f in val_frames], validated_on, result),
            "n_train": len(frames), **note}


def _pseudo_click_model(args: argparse.Namespace, train_entries: list[LabelledFrame]) -> ClickPredictor | None:
    """With --sparse-pseudo network, the click network that turns sparse-only frames into pseudo-masks, when
    there is one in use and a frame needs it."""
    if args.sparse_pseudo != "network" or args.click_baseline is None:
        return None

    def needs_it(e: LabelledFrame) -> bool:  # sparse labels alone, a nodule pixel among them, no box
        sparse_only = not (e.has_mask or e.calipers or e.no_nodule)
        boxed = any(s["kind"] == StrokeKind.BOX for s in e.strokes)
        return sparse_only and not boxed and bool(e.positives or any(s["foreground"] for s in e.strokes))

    if not any(needs_it(e) for e in train_entries):
        return None
    return ClickPredictor.load(args.click_baseline, threads=args.threads)


def _prsa_weight(args: argparse.Namespace, train_entries: list[LabelledFrame]) -> float:
    """PRSA spreads few confident pixels to similar-looking neighbours (ProCNS). At the same budget it helped
    scribbles and single points and hurt boxes, whose inside is mostly left to the tightness term (README,
    "Benchmarks"); frames with an accepted mask or calipers have no such gaps to fill."""
    if args.prsa is not None:
        return args.prsa

    def sparse_only(e: LabelledFrame) -> bool:
        return not (e.has_mask or e.calipers)

    scribbled = any(sparse_only(e) and any(s["kind"] == StrokeKind.SCRIBBLE for s in e.strokes)
                    for e in train_entries)
    pointed = any(sparse_only(e) and e.positives and not e.strokes for e in train_entries)
    return LOSS_PRESETS["prsa"].prsa if scribbled or pointed else 0.0


def _single_head(init: Path | None) -> Path | None:
    """The model to fine-tune the plain network from, unless it is a region-prior model (another architecture)."""
    return init if init is not None and len(metadata_heads(read_metadata(init))) == 1 else None


def _scored(args: argparse.Namespace, out: Path, val_entries: list[LabelledFrame], val_truths: list[np.ndarray],
            validated_on: str, result: TrainResult) -> dict:
    val_images = [read_frame(e.source, e.index).gray_u8() for e in val_entries]
    dices = score(out, val_images, val_truths, args.threads, args.device)
    baseline = score(args.baseline, val_images, val_truths, args.threads, args.device) if args.baseline else None
    # what decides is the clicks the prediction saves: a model that beats no model on Dice can still cost clicks
    noc = _clicks_from(out, val_images, val_truths, args)
    baseline_noc = _clicks_from(args.baseline, val_images, val_truths, args)
    return {"checkpoint": str(out), "val_dice": _mean(dices), "baseline_val_dice": _mean(baseline),
            "frame_scores": noc, "baseline_frame_scores": baseline_noc, "lower_is_better": True,
            "dice": dices, "baseline_dice": baseline,
            "validated_on": f"{validated_on}; decided by NoC@85 from the prediction",
            "n_val": len(val_truths), "epochs": result.epochs,
            "seconds": round(result.seconds, 1), "stopped_by": result.stopped_by}


def _click_round(args: argparse.Namespace, entries: list, stop: StopSignal) -> dict:
    from core.learning.click_round import ClickRoundConfig, click_frames, train_click_round, with_nodule

    frames = click_frames(args.snapshot, entries)
    masks = len(with_nodule(frames))
    if masks < 2:
        return {"skipped": f"{masks} accepted masks: the click network needs at least 2"}
    emit({"event": "state", "state": "training", "network": "click"})
    minutes = args.click_minutes if args.click_minutes is not None else args.minutes
    cfg = ClickRoundConfig(minutes=minutes, steps=args.click_steps, threads=args.threads, seed=args.seed,
                           device=args.device)
    report = train_click_round(frames, args.out / CLICK_MODEL_FILE, args.click_init, args.click_baseline, cfg,
                               lambda e: _progress(e, "click"), stop)
    emit({"event": "state", "state": "evaluating", "network": "click"})
    return report
