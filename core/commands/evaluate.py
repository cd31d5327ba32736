"""`python -m core evaluate`: Dice / IoU / HD95 of a trained model on a dataset's masks (mean per frame)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io.dataset import DatasetItem, list_dataset
from core.runtime.metrics import dice, hd95, iou
from core.runtime.predictor import Predictor


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path, help="model.safetensors written by `train`")
    p.add_argument("--data", required=True, type=Path, help="dataset folder with images/ and masks/")
    p.add_argument("--split", type=Path, help="stems to evaluate, one per line (default: every image)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int)
    p.add_argument("--tta", action="store_true", help="average with the horizontally flipped prediction")


def evaluate_items(predictor: Predictor, items: list[DatasetItem], log_every: int = 25) -> dict:
    """Mean Dice, IoU and HD95 (pixels; frames where exactly one mask is empty are left out of HD95)."""
    scores: dict[str, list[float]] = {"dice": [], "iou": [], "hd95": []}
    for k, item in enumerate(items):
        truth = item.mask()
        if truth is None:
            raise InputError(item.image_path, "no masks/<stem>.png to evaluate against")
        pred = predictor.predict(item.frame().gray_u8()) > 0.5
        scores["dice"].append(dice(pred, truth))
        scores["iou"].append(iou(pred, truth))
        distance = hd95(pred, truth)
        if np.isfinite(distance):
            scores["hd95"].append(distance)
        if log_every and ((k + 1) % log_every == 0 or k + 1 == len(items)):
            print(f"[evaluate] {k + 1}/{len(items)} dice {np.mean(scores['dice']):.4f}", file=sys.stderr, flush=True)
    return {"n": len(items), **{k: round(float(np.mean(v)), 4) if v else None for k, v in scores.items()}}


def run(args: argparse.Namespace) -> dict:
    predictor = Predictor.load(args.model, device=args.device, threads=args.threads, flip_tta=args.tta)
    return evaluate_items(predictor, list_dataset(args.data, args.split))
