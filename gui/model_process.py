"""Runs in the model's own process (see gui/model_provider.py): loads the checkpoint once and predicts. Keeping
torch out of the GUI process means neither its import nor its inference can hold the GUI's interpreter lock."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

_predictors: dict[str, Any] = {}  # model path -> loaded Predictor (one at a time)


def predict(model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str]:
    """The nodule probability for one gray frame, and the model's version label."""
    try:
        if model_path not in _predictors:
            from core.inference import Predictor

            if not _predictors and hasattr(os, "nice"):
                os.nice(5)  # first use: this process yields the CPU to the GUI, like the GUI's own workers
            _predictors.clear()
            _predictors[model_path] = Predictor.load(model_path, threads=1)  # leave the other cores to the GUI
        predictor = _predictors[model_path]
        probability = np.asarray(predictor.predict(image_u8), np.float32)
    except Exception as exc:  # re-raised as a plain error: our exception types do not survive pickling
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
    epoch = (predictor.metadata.get("metrics") or {}).get("epoch")
    return probability, f"epoch {epoch}" if epoch is not None else "model"
