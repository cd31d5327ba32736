"""The background trainer's frame round with and without frames tagged *no nodule*: the product's own path
(project store, snapshot, `train-project`, the presence gate it fits, `Predictor` at frame size), where
bench/tags.py measures the tag trainer at the working resolution.

    python bench/project_negatives.py --data ../shared/data/busi [--nodule-frames 80] [--negative-frames 40]
                                      [--epochs 30] [--threads 1] [--seed 0] [--out-root /tmp/sonoclick_negatives]
                                      [--variants without,with[,with_natural]]

A project holds the first --nodule-frames frames with a nodule of a seeded shuffle of splits/train.txt, each with
its true mask stored as an accepted mask (as a user who outlined them), and --negative-frames nodule-free frames:
BUSI's *normal* frames (tags.csv), or for DDTI (every frame holds a nodule) square crops of other training frames
that do not touch the nodule (core.training.negatives, as bench/tags.py makes them), written as PNG files. Variants
(--variants): `without`: the nodule-free frames are in the project but untagged, so nothing trains on them; `with`:
they are tagged *no nodule*, drawn at the trainer's default share of an epoch (`TrainConfig.negative_share`);
`with_natural`: tagged, drawn at their natural share. Each runs `python -m core train-project --networks frame` on
its snapshot for --epochs, side by side (--threads each), and is scored on splits/val.txt: Dice on the val frames
with a nodule, and false-positive frames (predicted area >= 1 % of the frame) among its nodule-free frames (BUSI's
normal val frames; for DDTI one crop of each val frame). The last stdout line is JSON."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from child_lifetime import die_with_parent  # noqa: E402

from core.annotation.tags import FrameTag  # noqa: E402
from core.io.dataset import DatasetItem, list_dataset  # noqa: E402
from core.learning.mixed_supervision import split_for_validation, to_training_frame  # noqa: E402
from core.learning.snapshot import read_snapshot, write_snapshot  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.runtime.metrics import dice  # noqa: E402
from core.runtime.predictor import Predictor  # noqa: E402
from core.training.negatives import nodule_free_crops  # noqa: E402
from core.training.presence_gate_fit import fit_gate  # noqa: E402
from core.training.tag_data import NO_NODULE_CLASSES, read_frame_classes  # noqa: E402
from models.presence_gate import METADATA_KEY  # noqa: E402

CROP_PX = 256
FP_AREA = 0.01
VARIANTS = ("without", "with", "with_natural")


def _split(data: Path, split: str, seed: int) -> tuple[list[DatasetItem], list[DatasetItem]]:
    """(frames with a nodule, frames without) of the split, in a seeded order."""
    classes = read_frame_classes(data / "tags.csv") if (data / "tags.csv").exists() else {}
    items = list_dataset(data, data / "splits" / f"{split}.txt")
    items = [items[i] for i in np.random.default_rng(seed).permutation(len(items))]
    empty = [i for i in items if classes.get(i.stem) in NO_NODULE_CLASSES or i.mask() is None or not i.mask().any()]
    return [i for i in items if i not in empty], empty


def _negatives(empty: list[DatasetItem], donors: list[DatasetItem], count: int, folder: Path, seed: int
               ) -> list[Path]:
    """`count` nodule-free image files: the dataset's own, else crops of the donors written to `folder`."""
    if empty:
        return [i.image_path for i in empty[:count]]
    folder.mkdir(parents=True, exist_ok=True)
    rng, paths = np.random.default_rng(seed), []
    for item in donors:
        for crop in nodule_free_crops(item.frame().gray_u8(), item.mask(), 1, CROP_PX, rng):
            paths.append(folder / f"{item.stem}_crop.png")
            cv2.imwrite(str(paths[-1]), crop.image)
        if len(paths) == count:
            break
    return paths


def _val_empties(nodules: list[DatasetItem], empty: list[DatasetItem], seed: int) -> list[np.ndarray]:
    """The val split's nodule-free frames, else one nodule-free crop of each of its frames (where one fits)."""
    if empty:
        return [i.frame().gray_u8() for i in empty]
    rng = np.random.default_rng([seed, 2])
    return [c.image for i in nodules for c in nodule_free_crops(i.frame().gray_u8(), i.mask(), 1, CROP_PX, rng)]


def _snapshot(root: Path, nodules: list[DatasetItem], negatives: list[Path], tagged: bool) -> Path:
    store = ProjectStore.create(root / "project")
    try:
        records = store.add_frames([i.image_path for i in nodules] + negatives)
        for record, item in zip(records, nodules):
            store.set_mask(record.id, 0, item.mask(), "painted")
        if tagged:
            store.set_tag([r.id for r in records[len(nodules):]], FrameTag.NO_NODULE)
        return write_snapshot(store, root / "snapshot")
    finally:
        store.close()


def _train(args: argparse.Namespace, snapshots: dict[str, Path]) -> dict[str, Path]:
    running = {}
    for name, snapshot in snapshots.items():
        out = args.out_root / name / "run"
        command = [sys.executable, "-m", "core", "train-project", "--snapshot", str(snapshot), "--out", str(out),
                   "--networks", "frame", "--epochs", str(args.epochs), "--threads", str(args.threads),
                   "--seed", str(args.seed), *(["--negative-share", "1"] if name == "with_natural" else [])]
        log = open(args.out_root / f"{name}.log", "w")  # noqa: SIM115 - closed after the process ends
        running[name] = (out, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
                                               preexec_fn=die_with_parent), log)
    for name, (out, process, log) in running.items():
        process.communicate()
        log.close()
        if process.returncode != 0 or not (out / "model.safetensors").exists():
            raise SystemExit(f"[project_negatives] {name} failed (rc {process.returncode}); see {log.name}")
    return {name: out / "model.safetensors" for name, (out, _, _) in running.items()}


def _refitted(predictor: Predictor, snapshot: Path, seed: int, kept: float, held_out: bool) -> Predictor:
    """The predictor with its gate fitted anew on the run's training frames (as train-project split them), by the
    rule that keeps `kept` of the training nodule frames (models.presence_gate.fit_presence_gate), and with
    `held_out` of its held-out nodule frames too (core.training.presence_gate_fit.kept_on_held_out)."""
    entries = [e for e in read_snapshot(snapshot) if e.has_nodule_labels]
    train_entries, val_entries, _ = split_for_validation(entries, seed)

    def images(chosen: list) -> list[np.ndarray]:
        return [to_training_frame(snapshot, e, predictor.resolution).image for e in chosen]

    gate = fit_gate(predictor.model, predictor.normalisation, images(train_entries),
                    [not e.no_nodule for e in train_entries], kept, images(val_entries) if held_out else None)
    metadata = {**predictor.metadata, METADATA_KEY: gate.to_dict()} if gate is not None else predictor.metadata
    return Predictor(predictor.model, metadata, predictor.device)


def _score(model: Path, nodules: list[DatasetItem], empties: list[np.ndarray], threads: int,
           refit: tuple[Path, int, float, bool] | None = None) -> dict:
    """Dice on the nodule frames and false-positive frames as the product predicts (gated), and the segmenter's
    own Dice with the frames its gate blanked. `refit`: (snapshot, seed, share kept, held out too) to fit the gate
    anew."""
    predictor = Predictor.load(model, device="cpu", threads=threads)
    if refit is not None and predictor.gate is not None:
        predictor = _refitted(predictor, *refit)
    said = [predictor.predict_frame(i.frame().gray_u8()) for i in nodules]
    dices = [float(dice(s.probability > 0.5, i.mask())) for s, i in zip(said, nodules)]
    ungated = [float(dice((s.probability if s.withheld is None else s.withheld) > 0.5, i.mask()))
               for s, i in zip(said, nodules)]
    fp = [float((predictor.predict(image) > 0.5).mean()) >= FP_AREA for image in empties]
    return {"dice": round(float(np.mean(dices)), 4), "fp_frames": int(sum(fp)), "n_empty_frames": len(empties),
            "ungated_dice": round(float(np.mean(ungated)), 4),
            "nodule_frames_gated_empty": sum(s.withheld is not None for s in said),
            "gate": predictor.gate is not None,
            "gate_threshold": None if predictor.gate is None else round(predictor.gate.threshold, 4)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--nodule-frames", type=int, default=80)
    p.add_argument("--negative-frames", type=int, default=40)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-root", type=Path, default=Path("/tmp/sonoclick_negatives"))
    p.add_argument("--variants", default="without,with", help="of without, with, with_natural")
    p.add_argument("--score-only", action="store_true", help="score the networks an earlier run left in --out-root")
    p.add_argument("--gate-keep", type=float, default=0.0,
                   help="with --score-only: fit each gate anew (in memory) keeping this share of the training "
                        "nodule frames (0: as trained)")
    p.add_argument("--gate-held-out", action="store_true",
                   help="with --gate-keep: keep that share of the run's held-out nodule frames too, as train-project "
                        "now does (without it: the rule before, training frames only)")
    args = p.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or set(variants) - set(VARIANTS):
        raise SystemExit(f"--variants: choose from {', '.join(VARIANTS)}")
    if args.out_root.exists() != args.score_only:
        raise SystemExit(f"{args.out_root} exists: pass a fresh --out-root" if args.out_root.exists()
                         else f"{args.out_root}: no earlier run to score")
    nodules, empty = _split(args.data, "train", args.seed)
    picked = nodules[:args.nodule_frames]
    if args.score_only:
        negatives = sorted((args.out_root / "crops").glob("*.png")) if not empty else empty[:args.negative_frames]
        models = {name: args.out_root / name / "run" / "model.safetensors" for name in variants}
    else:
        negatives = _negatives(empty, nodules[args.nodule_frames:], args.negative_frames,
                               args.out_root / "crops", args.seed)
        models = _train(args, {name: _snapshot(args.out_root / name, picked, negatives, name != "without")
                               for name in variants})
    val_nodules, val_empty = _split(args.data, "val", args.seed)
    empties = _val_empties(val_nodules, val_empty, args.seed)
    refit = {name: (args.out_root / name / "snapshot" / "snapshot.json", args.seed, args.gate_keep,
                    args.gate_held_out)
             for name in models} if args.gate_keep else {}
    results = {name: _score(model, val_nodules, empties, args.threads, refit.get(name))
               for name, model in models.items()}
    for name, r in results.items():
        print(f"{name:12s} val Dice {r['dice']:.4f}  false-positive frames {r['fp_frames']} of {r['n_empty_frames']}"
              f"  gate {r['gate_threshold']}  ungated Dice {r['ungated_dice']:.4f}"
              f"  nodule frames blanked {r['nodule_frames_gated_empty']}")
    print(json.dumps({"data": str(args.data), "nodule_frames": len(picked), "negative_frames": len(negatives),
                      "epochs": args.epochs, "seed": args.seed, **results}))


if __name__ == "__main__":
    main()
