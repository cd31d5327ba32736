"""`python -m core bench-interactive`: NoC@80/85/90 of the interactive engine with a RITM robot user."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.interactive.clicks_benchmark import START_OPTIONS, run_frame, summarise
from core.interactive.starter_models import resolve_model_argument
from core.io.dataset import list_dataset


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--split", type=Path)
    p.add_argument("--model", help="trained model whose probability map the engine starts from ('starter': the "
                                   "shipped starter frame model, where the build has one)")
    p.add_argument("--click-model",
                   help="click-conditioned network (train --supervision interactive) that answers each click; "
                        "'starter': the shipped starter click network, trained on breast ultrasound")
    p.add_argument("--start", choices=START_OPTIONS, default="none",
                   help="what the robot starts from: nothing, calipers (4 clicks) or the object's box (2 clicks)")
    p.add_argument("--jitter", type=float, default=0.0,
                   help="Gaussian jitter (px) of the simulated calipers' ends or the box's sides")
    p.add_argument("--max-clicks", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the model")


def run(args: argparse.Namespace) -> dict:
    items = list_dataset(args.data, args.split)
    args.model = resolve_model_argument(args.model, "frame")
    args.click_model = resolve_model_argument(args.click_model, "click")
    predictor = None
    if args.model:
        from core.runtime.predictor import Predictor

        predictor = Predictor.load(args.model, device="cpu", threads=args.threads)
    click_model = None
    if args.click_model:
        from core.interactive.click_network import ClickPredictor

        click_model = ClickPredictor.load(args.click_model, device="cpu", threads=args.threads)
    rng = np.random.default_rng(args.seed)
    runs = []
    for k, item in enumerate(items):
        truth = item.mask()
        if truth is None:
            raise InputError(item.image_path, "bench-interactive needs a ground-truth mask")
        image = item.frame().gray_u8()
        probability = predictor.predict(image) if predictor is not None else None
        runs.append(run_frame(image, truth, args.start, args.max_clicks, args.jitter, rng, probability, click_model))
        if (k + 1) % 10 == 0 or k + 1 == len(items):
            partial = summarise(runs, args.max_clicks)
            print(f"[bench-interactive] {k + 1}/{len(items)} noc85 {partial['noc85']} noc90 {partial['noc90']}",
                  file=sys.stderr, flush=True)
    return summarise(runs, args.max_clicks)
