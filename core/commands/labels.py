"""`python -m core labels`: high-confidence labels for a dataset folder, scored against its masks."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from core.annotation.caliper_simulation import calipers_from_label_map, jitter_calipers
from core.errors import InputError
from core.io.dataset import list_dataset
from core.labels.high_confidence import high_confidence_labels
from core.runtime.metrics import dice


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, help="dataset folder (images/, masks/, labels/)")
    p.add_argument("--split", type=Path, help="file listing the stems to use, one per line")
    p.add_argument("--jitter", type=float, default=0.0, help="Gaussian jitter (px) of simulated calipers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="write <stem>.png label maps (0 bg, 128 uncertain, 255 nodule)")


def run(args: argparse.Namespace) -> dict:
    items = list_dataset(args.data, args.split)
    rng = np.random.default_rng(args.seed)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    dices, fg_prec, bg_prec, coverage, seconds = [], [], [], [], 0.0
    for k, item in enumerate(items):
        image = item.frame().gray_u8()
        truth = item.mask()
        if item.labels_path is not None:
            from core.io.point_json import read_point_json

            calipers = read_point_json(item.labels_path, image_size=image.shape[:2])
        elif truth is not None:
            calipers = [jitter_calipers(c, args.jitter, rng) for c in calipers_from_label_map(truth)]
        else:
            raise InputError(item.image_path, "neither labels/<stem>.json nor masks/<stem>.png to take calipers from")
        start = time.perf_counter()
        labels = high_confidence_labels(image, calipers)
        seconds += time.perf_counter() - start
        confident = labels.foreground | labels.background
        coverage.append(float(confident.mean()))
        if truth is not None:
            dices.append(dice(labels.mask, truth))
            if labels.foreground.any():
                fg_prec.append(float(truth[labels.foreground].mean()))
            if labels.background.any():
                bg_prec.append(float((~truth[labels.background]).mean()))
        if args.out:
            cv2.imwrite(str(args.out / f"{item.stem}.png"), labels.as_u8())
        if (k + 1) % 20 == 0 or k + 1 == len(items):
            print(f"[labels] {k + 1}/{len(items)} mean dice {np.mean(dices) if dices else float('nan'):.4f}",
                  file=sys.stderr, flush=True)

    def mean(values: list[float]) -> float | None:
        return round(float(np.mean(values)), 4) if values else None

    return {
        "n": len(items),
        "dice": mean(dices),
        "fg_precision": mean(fg_prec),
        "bg_precision": mean(bg_prec),
        "coverage": mean(coverage),
        "ms_per_frame": round(1000 * seconds / max(len(items), 1), 2),
    }
