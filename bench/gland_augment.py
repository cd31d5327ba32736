"""How much augmentation a gland network wants: the plain U-Net trained on a gland folder's splits/train.txt for
the same wall-clock budget with each augmentation, scored at frame resolution on splits/val.txt.

    python bench/gland_augment.py --data ../shared/data/tg3k --minutes 6 --threads 2 [--resolution 128]

TG3K's training split was shipped already augmented (483 of its 842 frames flipped, rotated, re-contrasted and
noised by the packager) and its frames are already cropped to the image (no scanner-margin crop here). The last
stdout line is JSON: {augmentation: val Dice}."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.io.dataset import list_dataset  # noqa: E402
from core.training.augment import AUGMENTATIONS  # noqa: E402
from core.training.data import load_frames  # noqa: E402
from core.training.frame_task import TrainConfig, train  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, type=Path, help="gland dataset (images/, masks/, splits/)")
    p.add_argument("--minutes", type=float, default=6.0, help="wall-clock budget of each run")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", default=",".join(AUGMENTATIONS), help="comma-separated augmentations to run")
    args = p.parse_args()
    train_items = list_dataset(args.data, args.data / "splits" / "train.txt")
    val_items = list_dataset(args.data, args.data / "splits" / "val.txt")
    frames = load_frames(train_items, args.resolution, "masks", seed=args.seed, crop=False)
    val = load_frames(val_items, args.resolution, None, keep_full_truth=True, crop=False)
    scores = {}
    out = Path(tempfile.mkdtemp(prefix="sonoclick_gland_augment_"))
    for name in args.only.split(","):
        cfg = TrainConfig(supervision="masks", minutes=args.minutes, epochs=None, threads=args.threads,
                          resolution=args.resolution, seed=args.seed, device="cpu", augment=AUGMENTATIONS[name])
        result = train(frames, [], cfg, out / f"{name}.safetensors", monitor_frames=val)
        scores[name] = round(result.history[-1]["monitor_dice"], 4)
        print(f"{name}: val Dice {scores[name]:.4f}, {result.epochs} epochs, {result.steps} steps, "
              f"{result.frames_per_s:.1f} frames/s", flush=True)
    print(json.dumps(scores))


if __name__ == "__main__":
    main()
