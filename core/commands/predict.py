"""`python -m core predict`: masks and probability maps for images with a trained model."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from core.errors import InputError
from core.io.readers import read_frames
from core.runtime.predictor import Predictor


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path, help="model.safetensors written by `train`")
    p.add_argument("--input", required=True, nargs="+", type=Path, help="image files (or folders of images)")
    p.add_argument("--out", required=True, type=Path, help="writes <stem>_mask.png and <stem>_prob.png")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int)
    p.add_argument("--tta", action="store_true", help="average with the horizontally flipped prediction")
    p.add_argument("--threshold", type=float, default=0.5)


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.is_file()))
        elif p.exists():
            out.append(p)
        else:
            raise InputError(p, "no such file")
    return out


def run(args: argparse.Namespace) -> dict:
    predictor = Predictor.load(args.model, device=args.device, threads=args.threads, flip_tta=args.tta)
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    paths = _expand(args.input)
    for path in paths:
        frames = read_frames(path)
        for frame in frames:
            prob = predictor.predict(frame.gray_u8())
            stem = path.stem if len(frames) == 1 else f"{path.stem}_{frame.index:04d}"
            cv2.imwrite(str(args.out / f"{stem}_mask.png"), np.where(prob > args.threshold, 255, 0).astype(np.uint8))
            cv2.imwrite(str(args.out / f"{stem}_prob.png"), np.rint(prob * 255).astype(np.uint8))
            written += 1
        print(f"[predict] {path.name}: {len(frames)} frame(s)", file=sys.stderr, flush=True)
    return {"inputs": len(paths), "frames": written, "out": str(args.out)}
