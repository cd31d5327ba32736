"""Frame-level labels: negatives, masks from tags alone, and mixed supervision, at equal budgets.

    flock /work/bench.lock python bench/tags.py --data ../shared/data/busi [--epochs 12] [--threads 1] [--seed 0]

Every variant trains the same network (models.tag_net, preset --preset at --resolution px) for the same number
of steps (--epochs x the training frames / --batch-size) on splits/train.txt with a different label mix:
- masks_without_negatives: the nodule frames' masks only;
- all_masks: those masks plus the nodule-free frames as negatives ("no nodule": background everywhere);
- tags_only: "nodule present" / "no nodule" tags only (class head, CAM, CLTN-style eraser);
- mixed20: 20 seeded masks, tags for every other frame, trained the default way (core.training.tag_task): the
  tagged frames wait until, after --self-training-at of the epochs, each gets the largest part of the network's
  own mask to train towards, remade every --self-training-every epochs after (self-training);
- mixed20_self: the same, the tagged frames trained by their tag terms before that (on request);
- mixed20_tags: the same labels without self-training, the tag terms all along (the recipe before; on request);
- masks_only20: the same 20 masks alone;
- tags_dark_blob, mixed20_dark_blob: tags_only / mixed20 with the tagged frames starting from the model-free draft
  (core.labels.dark_blob) as their pseudo-label, drawn from the first epoch (TagTrainConfig.tag_start; on request);
- tags_one_click, mixed20_one_click: the same, the draft being the click network's answer to one click where a
  nodule is likely (core.interactive.one_click_draft, at --tag-click-places; --tag-click-model, default the
  shipped starter, which learnt BUSI's training masks: on BUSI give it a click network trained on another organ;
  on request). With --tag-click-steps N and masks among the labels (mixed20_one_click), the click network is first
  fine-tuned on those masks for N steps as the background trainer fine-tunes it (core.learning.click_round), and
  that network drafts the tagged frames: the few masks teach it the organ;
- tags_click_refined, mixed20_click_refined: the same, and each self-training mask is the network's own answered by
  one click at its deepest point by that click network (TagTrainConfig.self_training_click; on request);
- mixed20_refined_flip: mixed20_click_refined with the self-training maps averaged with those of the mirrored frames
  (TagTrainConfig.self_training_flip); mixed20_refined_pseudo1: the same with the self-training masks weighted as
  much as the accepted ones (KindWeights.pseudo 1.0 instead of 0.5); both on request.
Nodule-free frames: tags.csv's `normal` frames when the folder has them, else (DDTI) nodule-free crops of the
nodule frames (core.training.negatives), for training (train split) and for scoring (val split).
Scored on splits/val.txt at the working resolution (never trained on or selected with): mean Dice on nodule
frames (map > 0.5), false-positive frames among the nodule-free ones (predicted area >= 1 % of the frame) and
their mean predicted area, and for the tags_ variants each proposal method (core.labels.proposal) on the attention
map and on the CAM, beside the centred ellipse and the dark-blob draft; and the frame classifier as a gate (a frame
it calls nodule-free gets no mask: gated_dice, gated_fp_frames, nodule_frames_called_empty; only when the
classifier trained).
Where nodule-free frames trained a network, its presence gate (models.presence_gate, fitted after training on the
frozen network) is part of what the product predicts, so `dice`, `fp_frames` and `fp_area_percent` are the gated
output; `ungated_dice`, `ungated_fp_frames` are the segmenter alone, `nodule_frames_gated_empty` what the gate
cost (--no-presence-gate: no gate). With --nodule-crops, val's own nodule crops are scored apart
(`zoomed_nodule_dice`, `zoomed_nodule_frames_gated_empty`): a gate that had learnt "zoomed in = empty" would blank
them.
The last stdout line is JSON."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.interactive.click_network import ClickPredictor  # noqa: E402
from core.interactive.one_click_draft import PLACES, one_click_draft  # noqa: E402
from core.interactive.starter_models import resolve_model_argument  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.learning.click_round import ClickRoundConfig, round_training_config  # noqa: E402
from core.training.click_samples import ClickFrame  # noqa: E402
from core.training.click_task import train_click_model  # noqa: E402
from core.training.presence_gate_fit import fit_gate, gate_keeps  # noqa: E402
from core.training.tag_data import (  # noqa: E402
    TagFrame,
    crop_negatives,
    load_tag_frames,
    read_frame_classes,
    relabel,
)
from core.training.tag_eval import (  # noqa: E402
    false_positive_frames,
    mean_area_percent,
    mean_dice,
    proposal_dice,
)
from core.training.tag_task import (  # noqa: E402
    TagTrainConfig,
    effective_terms,
    tag_predictions,
    train_from_tags,
)
from models.checkpoint import load_checkpoint, read_metadata  # noqa: E402
from models.preprocess import Normalisation  # noqa: E402
from models.presence_gate import PresenceGate, gate_from_metadata  # noqa: E402
from models.tag_losses import MASK, NO_NODULE, KindWeights, TagTermWeights  # noqa: E402
from models.tag_net import TagNet  # noqa: E402

VARIANTS = {  # name: (masks kept (None: all), nodule tags, negatives)
    "masks_without_negatives": (None, False, False),
    "all_masks": (None, False, True),
    "tags_only": (0, True, True),
    "mixed20": (20, True, True),
    "mixed20_self": (20, True, True),
    "mixed20_tags": (20, True, True),
    "masks_only20": (20, False, False),
    "tags_dark_blob": (0, True, True),
    "mixed20_dark_blob": (20, True, True),
    "tags_one_click": (0, True, True),
    "mixed20_one_click": (20, True, True),
    "tags_click_refined": (0, True, True),
    "mixed20_click_refined": (20, True, True),
    "mixed20_refined_flip": (20, True, True),
    "mixed20_refined_pseudo1": (20, True, True),
}
ON_REQUEST = ("mixed20_self", "mixed20_tags", "tags_dark_blob", "mixed20_dark_blob", "tags_one_click",
              "mixed20_one_click", "tags_click_refined", "mixed20_click_refined", "mixed20_refined_flip",
              "mixed20_refined_pseudo1")
CLICK_REFINED = {"tag_start": "one_click", "self_training_click": True}
TRAINING = {"mixed20_self": {"tags_wait": False}, "mixed20_tags": {"self_training_at": 0.0},  # against the defaults
            "tags_dark_blob": {"tag_start": "dark_blob"}, "mixed20_dark_blob": {"tag_start": "dark_blob"},
            "tags_one_click": {"tag_start": "one_click"}, "mixed20_one_click": {"tag_start": "one_click"},
            "tags_click_refined": CLICK_REFINED, "mixed20_click_refined": CLICK_REFINED,
            "mixed20_refined_flip": {**CLICK_REFINED, "self_training_flip": True},
            "mixed20_refined_pseudo1": {**CLICK_REFINED, "kind_weights": KindWeights(pseudo=1.0)}}


def _frames(data: Path, split: str, resolution: int, crops: int, seed: int, nodule_crops: bool = False
            ) -> list[TagFrame]:
    classes = read_frame_classes(data / "tags.csv") if (data / "tags.csv").exists() else None
    items = list_dataset(data, data / "splits" / f"{split}.txt")
    frames = load_tag_frames(items, resolution, classes)
    if not any(f.kind == NO_NODULE for f in frames):
        frames += crop_negatives(items, resolution, crops, seed, with_nodule_crops=nodule_crops)
    return frames


def _score(net: TagNet, norm: Normalisation, val: list[TagFrame], with_proposals: bool, classifier: bool,
           gate: PresenceGate | None = None, click_model: ClickPredictor | None = None,
           places: tuple[str, ...] = PLACES) -> dict:
    nodule = [f for f in val if f.kind != NO_NODULE and not f.zoomed]
    empty = [f for f in val if f.kind == NO_NODULE]
    zoomed = [f for f in val if f.kind != NO_NODULE and f.zoomed]
    probs, cams, presence = tag_predictions(net, [f.image for f in nodule], norm)
    empty_probs, _, empty_presence = tag_predictions(net, [f.image for f in empty], norm)
    truths = [f.truth for f in nodule]
    scores = {"n_nodule_frames": len(nodule), "n_empty_frames": len(empty)}
    if gate is not None:  # what the product predicts: the gate's nodule-free frames get no mask
        keep = gate_keeps(net.unet, gate, [f.image for f in nodule], norm)
        empty_keep = gate_keeps(net.unet, gate, [f.image for f in empty], norm)
        scores["gate_threshold"] = round(gate.threshold, 4)
        scores.update(ungated_dice=mean_dice(probs, truths), ungated_fp_frames=false_positive_frames(empty_probs),
                      nodule_frames_gated_empty=int((~keep).sum()), empty_frames_gated_empty=int((~empty_keep).sum()))
        probs = [p * k for p, k in zip(probs, keep)]
        empty_probs = [p * k for p, k in zip(empty_probs, empty_keep)]
    scores.update(dice=mean_dice(probs, truths), fp_frames=false_positive_frames(empty_probs),
                  fp_area_percent=mean_area_percent(empty_probs))
    if zoomed:  # nodule crops of val frames (--nodule-crops): does the gate tell nodules, or zoom?
        zoomed_probs = tag_predictions(net, [f.image for f in zoomed], norm)[0]
        zoomed_truths = [f.truth for f in zoomed]
        scores.update(n_zoomed_nodule_frames=len(zoomed), zoomed_nodule_dice=mean_dice(zoomed_probs, zoomed_truths))
        if gate is not None:
            zoomed_keep = gate_keeps(net.unet, gate, [f.image for f in zoomed], norm)
            scores["zoomed_nodule_frames_gated_empty"] = int((~zoomed_keep).sum())
            scores["zoomed_nodule_dice"] = mean_dice([p * k for p, k in zip(zoomed_probs, zoomed_keep)], zoomed_truths)
    if classifier:  # the frame classifier as a gate: a frame it calls nodule-free gets no mask
        present, empty_present = presence >= 0.5, empty_presence >= 0.5
        scores["gated_dice"] = mean_dice([p * keep for p, keep in zip(probs, present)], truths)
        scores["gated_fp_frames"] = false_positive_frames([p * keep for p, keep in zip(empty_probs, empty_present)])
        scores["nodule_frames_called_empty"] = int((~present).sum())
    if with_proposals:
        images = [f.image for f in nodule]
        for method in ("threshold", "graphcut"):
            scores[f"attention_{method}"] = proposal_dice(images, probs, truths, method)
            scores[f"cam_{method}"] = proposal_dice(images, cams, truths, method)
        scores["ellipse"] = proposal_dice(images, None, truths, "ellipse")
        scores["dark_blob"] = proposal_dice(images, None, truths, "dark_blob")
    if click_model is not None:  # the drafts the tagged frames started from, made on val
        scores["one_click"] = mean_dice([one_click_draft(f.image, click_model, places=places).astype(np.float32)
                                         for f in nodule], truths)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}


def _arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/busi")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--preset", default="tiny")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--crops-per-frame", type=int, default=1, help="nodule-free crops per frame (no tags.csv)")
    p.add_argument("--nodule-crops", action="store_true",
                   help="with nodule-free crops (no tags.csv), train on as many zoomed crops holding the nodule, drawn "
                        "with them (core.training.negatives: the zoom then says nothing of a nodule); val scores the "
                        "same crops of its frames apart (zoomed_nodule_*)")
    p.add_argument("--variants", default=",".join(v for v in VARIANTS if v not in ON_REQUEST),
                   help="comma-separated subset (smoke runs)")
    p.add_argument("--self-training-at", type=float, default=TagTrainConfig().self_training_at,
                   help="the fraction of the epochs after which tagged frames get the network's own mask (mixes of "
                        "masks and tags)")
    p.add_argument("--self-training-every", type=int, default=TagTrainConfig().self_training_every,
                   help="remake the tagged frames' own masks every this many epochs after the first time (0: once)")
    p.add_argument("--negative-presence", type=float, default=TagTermWeights().negative_presence,
                   help="weight of the top-pixels term on nodule-free frames (models.tag_losses)")
    p.add_argument("--negative-share", type=float, default=TagTrainConfig().negative_share,
                   help="draw nodule-free frames at most at this share of the batches (1: their natural share)")
    p.add_argument("--frame-class", type=float, default=TagTermWeights().frame_class,
                   help="weight of the frame classifier's term when some frame has a nodule tag alone (it is off "
                        "otherwise: core.training.tag_task.effective_terms)")
    p.add_argument("--no-presence-gate", action="store_true",
                   help="score the segmenter alone: no presence gate fitted after training (models.presence_gate)")
    p.add_argument("--score-only", action="store_true",
                   help="train nothing: score the networks an earlier run (same --seed, --data, --nodule-crops) left "
                        "in --out-root, fitting their presence gate (not saved) where they have none (the class head "
                        "is not saved, so no classifier figures)")
    p.add_argument("--refit-gate", action="store_true",
                   help="with --score-only: fit the gate anew (not saved) instead of using the one a run saved")
    p.add_argument("--gate-keep", type=float, default=TagTrainConfig().gate_nodule_frames_kept or 0.0,
                   help="the gate's threshold, lowered until it keeps this share of the training nodule frames "
                        "(e.g. 0.98; models.presence_gate; with --score-only where the gate is fitted here); 0: "
                        "the plain 0.5")
    p.add_argument("--gate-negatives", action="store_true",
                   help="with --score-only: fit the gate with the nodule-free frames also for a variant trained "
                        "without them (masks_without_negatives): negatives for the gate alone")
    p.add_argument("--tag-click-places", default=",".join(PLACES),
                   help="where the *_one_click variants' click goes, comma-separated "
                        "(core.interactive.one_click_draft)")
    p.add_argument("--tag-click-steps", type=int, default=0,
                   help="fine-tune the *_one_click variants' click network on the variant's masks for this many steps "
                        "first (0: as given)")
    p.add_argument("--tag-click-model", default="starter",
                   help="the click network of the *_one_click variants (a checkpoint, or starter: the shipped one, "
                        "which learnt BUSI's training masks)")
    p.add_argument("--out-root", type=Path, default=Path("/tmp/sonoclick_tags"))
    return p.parse_args()


def _train_and_score(name: str, args: argparse.Namespace, train: list[TagFrame], val: list[TagFrame]) -> dict:
    masks, tags, negatives = VARIANTS[name]
    frames = relabel(train, masks, tags, negatives, args.seed)
    cfg = TagTrainConfig(epochs=args.epochs, batch_size=args.batch_size, threads=args.threads, seed=args.seed,
                         preset=args.preset, resolution=args.resolution, items_per_epoch=len(train),
                         negative_share=args.negative_share, self_training_at=args.self_training_at,
                         self_training_every=args.self_training_every, presence_gate=not args.no_presence_gate,
                         gate_nodule_frames_kept=args.gate_keep or None,
                         terms=TagTermWeights(negative_presence=args.negative_presence, frame_class=args.frame_class))
    cfg = replace(cfg, **TRAINING.get(name, {}))
    click_path = resolve_model_argument(args.tag_click_model, "click") if cfg.tag_start == "one_click" else None
    if click_path is not None and args.tag_click_steps and any(f.kind == MASK for f in frames):
        click_path = _fine_tuned(click_path, [f for f in frames if f.kind == MASK], args,
                                 args.out_root / f"{name}.click.safetensors")
    places = tuple(args.tag_click_places.split(","))
    cfg = replace(cfg, tag_click_model=None if click_path is None else str(click_path), tag_click_places=places)
    out = args.out_root / f"{name}.safetensors"
    result, net, norm = train_from_tags(frames, cfg, out)
    classifier = effective_terms(cfg.terms, [f.kind for f in frames]).frame_class > 0
    gate = gate_from_metadata(read_metadata(out))
    click_model = None if click_path is None else ClickPredictor.load(click_path, threads=args.threads)
    scores = _score(net, norm, val, with_proposals=name.startswith("tags_"), classifier=classifier, gate=gate,
                    click_model=click_model, places=places)
    return {**scores, "presence_gate": gate is not None, "n_train": len(frames), "steps": result.steps,
            "train_s": round(result.seconds, 1), "frames_per_s": round(result.frames_per_s, 2)}


def _fine_tuned(init: Path, masks: list[TagFrame], args: argparse.Namespace, out: Path) -> Path:
    """The click network `init` fine-tuned on the mask frames, as a background-trainer round would."""
    cfg = round_training_config(ClickRoundConfig(minutes=None, steps=args.tag_click_steps, threads=args.threads,
                                                 seed=args.seed), init)
    frames = [ClickFrame(f.stem, f.image, f.truth > 0) for f in masks]
    result = train_click_model(frames, [], cfg, out, metadata={"fine_tuned_from": str(init), "n_train": len(frames)})
    print(f"[tags] click network fine-tuned on {len(frames)} masks: {result.steps} steps, {result.seconds:.0f} s",
          flush=True)
    return out


def _rescore(name: str, args: argparse.Namespace, train: list[TagFrame], val: list[TagFrame]) -> dict:
    masks, tags, negatives = VARIANTS[name]
    frames = relabel(train, masks, tags, negatives or args.gate_negatives, args.seed)
    unet, meta = load_checkpoint(args.out_root / f"{name}.safetensors")
    norm = Normalisation.from_dict(meta["normalisation"])
    gate = None if args.no_presence_gate or args.refit_gate else gate_from_metadata(meta)
    if gate is None and not args.no_presence_gate:  # fitted here, as training would have, never saved
        kept = args.gate_keep if args.gate_keep > 0 else None
        gate = fit_gate(unet, norm, [f.image for f in frames], [f.kind != NO_NODULE for f in frames], kept)
    scores = _score(TagNet(unet, with_eraser=False).eval(), norm, val, with_proposals=name.startswith("tags_"),
                    classifier=False, gate=gate)
    return {**scores, "presence_gate": gate is not None, "n_train": len(frames),
            "scored_from": str(args.out_root / f"{name}.safetensors")}


def main() -> None:
    args = _arguments()
    started = time.time()
    train = _frames(args.data, "train", args.resolution, args.crops_per_frame, args.seed, args.nodule_crops)
    val = _frames(args.data, "val", args.resolution, args.crops_per_frame, args.seed + 1, args.nodule_crops)
    print(f"[tags] {len(train)} train frames ({sum(f.kind == NO_NODULE for f in train)} nodule-free), "
          f"{len(val)} val frames ({sum(f.kind == NO_NODULE for f in val)} nodule-free)", flush=True)
    results = {}
    for name in [v for v in args.variants.split(",") if v]:
        results[name] = (_rescore if args.score_only else _train_and_score)(name, args, train, val)
        print(f"[tags] {name}: {json.dumps(results[name])}", flush=True)
    print(f"[tags] wall {time.time() - started:.0f} s", flush=True)
    print(json.dumps(_summary(results, args, time.time() - started)), flush=True)


def _summary(results: dict, args: argparse.Namespace, wall_s: float) -> dict:
    def get(variant: str, key: str) -> float | None:
        return results.get(variant, {}).get(key)

    tags = results.get("tags_only", {})
    methods = {k: v for k, v in tags.items() if k.startswith(("attention_", "cam_"))}
    best = max(methods, key=methods.get) if methods else None
    return {
        "fp_frames_without_negatives": get("masks_without_negatives", "fp_frames"),
        "fp_frames_with_negatives": get("all_masks", "fp_frames"),
        "dice_without_negatives": get("masks_without_negatives", "dice"),
        "dice_with_negatives": get("all_masks", "dice"),
        "tags_only_dice": methods.get(best) if best else None, "tags_only_method": best,
        "cam_dice": tags.get("cam_threshold"), "cam_graphcut_dice": tags.get("cam_graphcut"),
        "ellipse_dice": tags.get("ellipse"),
        "mixed20_dice": get("mixed20", "dice"), "masks_only20_dice": get("masks_only20", "dice"),
        "mixed20_self_dice": get("mixed20_self", "dice"), "mixed20_tags_dice": get("mixed20_tags", "dice"),
        "tags_one_click_dice": get("tags_one_click", "dice"),
        "mixed20_one_click_dice": get("mixed20_one_click", "dice"),
        "tags_click_refined_dice": get("tags_click_refined", "dice"),
        "mixed20_click_refined_dice": get("mixed20_click_refined", "dice"),
        "mixed20_refined_flip_dice": get("mixed20_refined_flip", "dice"),
        "mixed20_refined_pseudo1_dice": get("mixed20_refined_pseudo1", "dice"),
        "all_masks_dice": get("all_masks", "dice"),
        "n_empty_val_frames": next((r["n_empty_frames"] for r in results.values()), None),
        "budget": {"epochs": args.epochs, "batch_size": args.batch_size, "preset": args.preset,
                   "resolution": args.resolution, "threads": args.threads, "seed": args.seed,
                   "negative_presence": args.negative_presence, "frame_class": args.frame_class,
                   "negative_share": args.negative_share, "self_training_at": args.self_training_at,
                   "self_training_every": args.self_training_every, "presence_gate": not args.no_presence_gate,
                   "gate_negatives": args.gate_negatives, "tag_click_model": args.tag_click_model,
                   "tag_click_places": args.tag_click_places,
                   "tag_click_steps": args.tag_click_steps,
                   "score_only": args.score_only,  # then the training settings above are not the networks' own
                   "wall_s": round(wall_s, 1)},
        "variants": results,
    }


if __name__ == "__main__":
    main()
