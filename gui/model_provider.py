"""The optional trained model: when the project setting "model_path" names a checkpoint (absolute, or relative to
the project folder), unlabelled frames get the model's predicted mask, stored with the frame. Without the setting
the app works as usual and torch is never imported.

The model runs in a separate process (one worker, started on first use): importing torch and running a network
would otherwise hold this process's interpreter lock for up to a few hundred milliseconds and freeze the GUI.
predict_if_needed is called from the store worker thread and waits there for the answer."""
from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from core.project.records import FrameRecord
from core.project.store import ProjectStore
from gui import model_process
from gui.click_model_provider import ClickModelProvider

MODEL_SETTING = "model_path"
PREDICT_TIMEOUT_S = 300.0  # the first call includes starting the process and loading torch
log = logging.getLogger("sonoclick")


class ModelProvider:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._failed: set[Path] = set()
        self.last_error: str | None = None
        self.clicks = ClickModelProvider()  # the optional click-conditioned network, in a process of its own

    def model_path(self, store: ProjectStore) -> Path | None:
        return store.path_setting(MODEL_SETTING)

    def predict_if_needed(self, store: ProjectStore, record: FrameRecord, gray: np.ndarray,
                          annotated: bool) -> np.ndarray | None:
        """The model's probability for an unannotated frame without one (stored for next time), else None."""
        if annotated:
            return None
        path = self.model_path(store)
        if path is None or path in self._failed or store.prediction(record.id) is not None:
            return None
        if not path.is_file():
            return self._give_up(path, "file not found")
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            probability, version = self._pool.submit(model_process.predict, str(path), gray).result(
                timeout=PREDICT_TIMEOUT_S)
        except Exception as exc:  # a broken model must not stop annotation
            return self._give_up(path, str(exc))
        store.set_prediction(record.id, probability, f"{path.name}:{version}")
        return probability

    def _give_up(self, path: Path, reason: str) -> None:
        self._failed.add(path)
        self.last_error = f"Model {path.name} not used: {reason}"
        log.warning(self.last_error)
        return None

    def close(self) -> None:
        self.clicks.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
