"""Train the starter click network that ships in resources/models/ from the CC0 BUSI breast frames only.

    python build_scripts/train_starter_models.py --data ../shared/data/busi --minutes 25 --members 3 --threads 1

Trains on splits/train.txt, selects the checkpoint on splits/val.txt (both BUSI), with strong appearance
augmentation and objects of redrawn echogenicity (breast lesions are dark, thyroid nodules often are not) so
that the network carries over to other organs (thyroid). With --members N, N networks (seeds SEED..SEED+N-1)
make an ensemble: the first one's file names the others and the engine averages their answers. To use more
cores, train the members in parallel (--members 1 --seed S --out FOLDER/NAME each), then the first network with
--join NAME ... naming them. Each checkpoint's metadata records the data, licence, citation, command and seed;
resources/models/README.md says the same with the measured metrics. Never point --data at DDTI or TG3K: their
licences do not allow shipping derived weights."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.errors import CheckpointError  # noqa: E402
from core.interactive.click_network import ENSEMBLE_KEY, MAX_ENSEMBLE, ensemble_paths, is_member_name  # noqa: E402
from core.interactive.starter_models import (  # noqa: E402
    STARTER_CLICK_FILE,
    STARTER_SOURCE,
    member_path,
    models_folder,
)
from core.io.dataset import list_dataset  # noqa: E402
from core.training.click_samples import frames_with_masks  # noqa: E402
from core.training.click_task import ClickTrainConfig, train_click_model  # noqa: E402
from core.training.data import data_hash  # noqa: E402

LESION_ECHO = 0.5
FIRST_WINDOW_SCALE = (0.5, 1.5)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the BUSI folder (CC0)")
    p.add_argument("--minutes", type=float, default=55.0, help="per network")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--members", type=int, default=1,
                   help="networks to train (seeds SEED, SEED+1, ...); more than one make an ensemble whose answers "
                        "the engine averages, the first network's file naming the others")
    p.add_argument("--join", nargs="+", default=[], metavar="FILE",
                   help="file names, in the folder of --out, of networks trained apart (each with --members 1 --seed S "
                        "--out FILE, possibly beside this run) that this one names as its ensemble members; they "
                        "must be there when it finishes")
    p.add_argument("--appearance", choices=["strong", "strong_speckle"], default="strong",
                   help="whole-frame appearance changes (core/training/click_task.py: APPEARANCE_PRESETS)")
    p.add_argument("--lesion-echo", type=float, default=LESION_ECHO,
                   help="share of samples whose lesion gets a random echogenicity")
    p.add_argument("--first-window-scale", type=float, nargs=2, default=FIRST_WINDOW_SCALE, metavar=("LO", "HI"),
                   help="range of a first click's window, in the engine's first-click window")
    p.add_argument("--out", type=Path, default=None, help=f"default resources/models/{STARTER_CLICK_FILE}")
    args = p.parse_args(argv)
    if "busi" not in args.data.resolve().name.lower():
        p.error("starter models are trained from the CC0 BUSI folder only")
    out = args.out or models_folder() / STARTER_CLICK_FILE
    if odd := [name for name in args.join if not is_member_name(name)]:
        p.error(f"--join takes checkpoint file names in the folder of --out, not {', '.join(odd)}")
    joined = [out.parent / name for name in args.join]
    if not 1 <= args.members + len(joined) <= 1 + MAX_ENSEMBLE:
        p.error(f"--members and --join must make from 1 to {1 + MAX_ENSEMBLE} networks")
    train_items = list_dataset(args.data, args.data / "splits" / "train.txt")
    val_items = list_dataset(args.data, args.data / "splits" / "val.txt")
    frames, val_frames = frames_with_masks(train_items), frames_with_masks(val_items)
    command = "python build_scripts/train_starter_models.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    members = [member_path(out, k) for k in range(1, args.members)]
    # the members first and the first network last: its file names them, so it never names a missing one
    for k, path in [*enumerate(members, start=1), (0, out)]:
        seed = args.seed + k
        cfg = ClickTrainConfig(epochs=None, minutes=args.minutes, seed=seed, threads=args.threads,
                               device="cpu", appearance=args.appearance, lesion_echo=args.lesion_echo,
                               first_window_scale=tuple(args.first_window_scale))
        metadata = {"starter": {**STARTER_SOURCE, "command": command, "seed": seed,
                                "train_frames": len(frames), "val_frames": len(val_frames)},
                    "data_hash": data_hash(train_items, "interactive", 0.0, seed),
                    "n_train": len(frames), "n_val": len(val_frames)}
        if k == 0 and members + joined:
            metadata[ENSEMBLE_KEY] = [m.name for m in members + joined]
        started = time.time()

        def report(event: object, seed: int = seed) -> None:
            if getattr(event, "kind", "") == "epoch":
                print(f"[starter seed {seed}] epoch {event.epoch} step {event.step} {event.elapsed_s:.0f}s "
                      f"val_iou_3_clicks {event.val_dice}", flush=True)

        result = train_click_model(frames, val_frames, cfg, path, report, None, metadata)
        if k == 0:
            try:
                ensemble_paths(path, metadata)  # the --join networks must be there by now
            except CheckpointError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        path.chmod(0o644)  # the checkpoint is written through a private temporary file
        print(json.dumps({"model": str(path), "seed": seed, "epochs": result.epochs, "steps": result.steps,
                          "best_val_iou_3_clicks": result.best_val_dice, "seconds": round(time.time() - started)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
