"""`--selftest`: headless end-to-end check of an installation. Generates a synthetic frame, makes labels from
simulated calipers, refines with the interactive engine, trains a tiny network for a few steps, predicts, and
checks every result. One line of report; exit 0 when all is well, 1 with the reason otherwise."""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


def run_selftest() -> str:
    started = time.perf_counter()
    from core.annotation.caliper_simulation import calipers_from_label_map
    from core.interactive.session import InteractionSession
    from core.labels.high_confidence import high_confidence_labels
    from core.runtime.metrics import dice, iou
    from core.training.synthetic import make_frame

    frame = make_frame(7, size=(192, 224))
    calipers = calipers_from_label_map(frame.labels)
    labels = high_confidence_labels(frame.image, calipers)
    label_dice = dice(labels.mask, frame.mask)
    _check(label_dice > 0.85, f"labels Dice {label_dice:.3f} <= 0.85")
    _check(frame.mask[labels.foreground].mean() > 0.95, "confident nodule pixels disagree with the truth")

    session = InteractionSession(frame.image)
    session.set_calipers(calipers[0])
    ys, xs = np.nonzero(frame.mask)
    mask = session.add_click(int(xs.mean()), int(ys.mean()), positive=True)
    engine_iou = iou(mask, frame.mask)
    _check(engine_iou > 0.8, f"engine IoU {engine_iou:.3f} <= 0.8")

    import torch

    from core.annotation.points import Calipers
    from core.runtime.predictor import Predictor
    from core.training.data import TrainingFrame
    from core.training.frame_task import TrainConfig, train
    from core.training.targets import caliper_targets
    from models.preprocess import content_box, crop_resize, points_to_work

    frames = []
    for seed in range(4):
        f = make_frame(seed, size=(96, 112))
        box = content_box(f.image)
        tf = TrainingFrame(f"s{seed}", crop_resize(f.image, box, 64), box, f.image.shape)
        tf.calipers = [Calipers.from_array(points_to_work(c.as_array(), box, 64))
                       for c in calipers_from_label_map(f.labels)]
        tf.targets = caliper_targets(tf.image, tf.calipers)
        frames.append(tf)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "model.safetensors"
        cfg = TrainConfig(preset="tiny", resolution=64, epochs=2, batch_size=2, threads=1, device="cpu", seed=0)
        result = train(frames, [], cfg, out)
        _check(out.exists() and result.steps > 0, "training wrote no checkpoint")
        probability = Predictor.load(out, device="cpu", threads=1).predict(frame.image)
        _check(probability.shape == frame.image.shape and np.isfinite(probability).all(), "prediction is malformed")
    seconds = time.perf_counter() - started
    return (f"SonoClick selftest OK: labels Dice {label_dice:.3f}, engine IoU {engine_iou:.3f}, "
            f"{result.steps} training steps, prediction {probability.shape[1]}x{probability.shape[0]}, "
            f"torch {torch.__version__}, {seconds:.1f} s")


def main() -> int:
    try:
        print(run_selftest(), flush=True)
        return 0
    except Exception as exc:  # the report is the point: any failure becomes one line and a non-zero exit
        print(f"SonoClick selftest FAILED: {type(exc).__name__}: {exc}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
