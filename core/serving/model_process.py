"""Runs in the model's own process (see core/serving/frame_model.py): loads the checkpoint once and predicts. Keeping
torch out of the GUI process means neither its import nor its inference can hold the GUI's interpreter lock."""
from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

_Result = TypeVar("_Result")
_predictors: dict[str, Any] = {}  # model path -> loaded Predictor (one at a time)
_click_predictors: dict[str, Any] = {}  # click-model path -> loaded ClickPredictor (one at a time)
_yielded = [False]  # this process has lowered its priority (niceness adds up: only once)


def _yield_cpu(niceness: int) -> None:
    """Leave the CPU to the GUI, like the GUI's own workers (first use only)."""
    if not _yielded[0] and hasattr(os, "nice"):
        os.nice(niceness)
    _yielded[0] = True


def _plain_errors(function: Callable[..., _Result]) -> Callable[..., _Result]:
    """Re-raise any failure as a RuntimeError naming its type: our exception types do not survive pickling."""

    @functools.wraps(function)
    def wrapper(*args: Any) -> _Result:
        try:
            return function(*args)
        except Exception as exc:
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from None

    return wrapper


@_plain_errors
def preload() -> int:
    """Import torch and the frame predictor now, before any model is asked for; this process's id."""
    import core.runtime.predictor  # noqa: F401

    _yield_cpu(5)  # after the import, which a lower priority would slow down by seconds on a busy machine
    return os.getpid()


@_plain_errors
def predict(model_path: str, image_u8: np.ndarray) -> tuple[np.ndarray, str, float | None, np.ndarray | None]:
    """The nodule probability for one gray frame, the model's version label, its presence gate's probability that
    the frame holds a nodule (None when the model has no gate), and the segmenter's own map where the gate blanked
    the frame (else None)."""
    if model_path not in _predictors:
        from core.runtime.predictor import Predictor

        _yield_cpu(5)
        _predictors.clear()
        _predictors[model_path] = Predictor.load(model_path, threads=1)  # leave the other cores to the GUI
    predictor = _predictors[model_path]
    said = predictor.predict_frame(image_u8)
    epoch = (predictor.metadata.get("metrics") or {}).get("epoch")
    return (np.asarray(said.probability, np.float32), f"epoch {epoch}" if epoch is not None else "model",
            said.presence, said.withheld)


def _click_predictor(model_path: str) -> Any:
    if model_path not in _click_predictors:
        from core.interactive.click_network import ClickPredictor

        _yield_cpu(2)
        _click_predictors.clear()
        _click_predictors[model_path] = ClickPredictor.load(model_path, threads=1)
    return _click_predictors[model_path]


@_plain_errors
def load_click_model(model_path: str) -> None:
    """Load the click-conditioned network now, so the first click does not wait for torch and the weights."""
    _click_predictor(model_path)


@_plain_errors
def click_predict(model_path: str, image_u8: np.ndarray, window: Any, positives: np.ndarray,
                  negatives: np.ndarray, prev_mask: np.ndarray | None) -> np.ndarray:
    """The click network's nodule probability over `window` (see ClickPredictor.predict)."""
    return _click_predictor(model_path).predict(image_u8, window, positives, negatives, prev_mask)
