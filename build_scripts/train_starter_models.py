"""Train the starter click network that ships in resources/models/ from the CC0 BUSI breast frames only.

    python build_scripts/train_starter_models.py --data ../shared/data/busi --minutes 55 --threads 1

Trains on splits/train.txt, selects the checkpoint on splits/val.txt (both BUSI), with strong appearance
augmentation and objects of redrawn echogenicity (breast lesions are dark, thyroid nodules often are not) so
that the network carries over to other organs (thyroid). The checkpoint's metadata records the
data, licence, citation, command and seed; resources/models/README.md says the same with the measured
metrics. Never point --data at DDTI or TG3K: their licences do not allow shipping derived weights."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.interactive.starter_models import STARTER_CLICK_FILE, STARTER_SOURCE, models_folder  # noqa: E402
from core.io.dataset import list_dataset  # noqa: E402
from core.training.click_samples import frames_with_masks  # noqa: E402
from core.training.click_task import ClickTrainConfig, train_click_model  # noqa: E402
from core.training.data import data_hash  # noqa: E402

LESION_ECHO = 0.5
FIRST_WINDOW_SCALE = (0.5, 1.5)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the BUSI folder (CC0)")
    p.add_argument("--minutes", type=float, default=55.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lesion-echo", type=float, default=LESION_ECHO,
                   help="share of samples whose lesion gets a random echogenicity")
    p.add_argument("--first-window-scale", type=float, nargs=2, default=FIRST_WINDOW_SCALE, metavar=("LO", "HI"),
                   help="range of a first click's window, in the engine's first-click window")
    p.add_argument("--out", type=Path, default=None, help=f"default resources/models/{STARTER_CLICK_FILE}")
    args = p.parse_args(argv)
    if "busi" not in args.data.resolve().name.lower():
        p.error("starter models are trained from the CC0 BUSI folder only")
    out = args.out or models_folder() / STARTER_CLICK_FILE
    train_items = list_dataset(args.data, args.data / "splits" / "train.txt")
    val_items = list_dataset(args.data, args.data / "splits" / "val.txt")
    frames, val_frames = frames_with_masks(train_items), frames_with_masks(val_items)
    cfg = ClickTrainConfig(epochs=None, minutes=args.minutes, seed=args.seed, threads=args.threads,
                           device="cpu", appearance="strong", lesion_echo=args.lesion_echo,
                           first_window_scale=tuple(args.first_window_scale))
    command = "python build_scripts/train_starter_models.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    metadata = {"starter": {**STARTER_SOURCE, "command": command, "seed": args.seed,
                            "train_frames": len(frames), "val_frames": len(val_frames)},
                "data_hash": data_hash(train_items, "interactive", 0.0, args.seed),
                "n_train": len(frames), "n_val": len(val_frames)}
    started = time.time()

    def report(event: object) -> None:
        if getattr(event, "kind", "") == "epoch":
            print(f"[starter] epoch {event.epoch} step {event.step} {event.elapsed_s:.0f}s "
                  f"val_iou_3_clicks {event.val_dice}", flush=True)

    result = train_click_model(frames, val_frames, cfg, out, report, None, metadata)
    out.chmod(0o644)  # the checkpoint is written through a private temporary file
    print(json.dumps({"model": str(out), "epochs": result.epochs, "steps": result.steps,
                      "best_val_iou_3_clicks": result.best_val_dice, "seconds": round(time.time() - started)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
