"""The optional click-conditioned network (project setting "click_model_path", a checkpoint trained with
`python -m core train --supervision interactive`). It runs in its own process, like the frame model (see
gui/model_provider.py), and is loaded as soon as a project names one. Until it is loaded, or if it fails, the
interactive engine answers clicks without it: a click never waits for torch to start."""
from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np

from core.errors import CheckpointError, ClickModelUnavailable
from core.labels.crop import Crop
from core.learning.versions import CLICK, ModelRegistry
from core.project.store import ProjectStore
from gui import model_process

CLICK_MODEL_SETTING = "click_model_path"
CLICK_TIMEOUT_S = 5.0  # one answer takes tens of milliseconds; a stuck process must not hold the engine
log = logging.getLogger("sonoclick")


class RemoteClickPredictor:
    """ClickPredictor's predict, answered by the model process."""

    def __init__(self, provider: ClickModelProvider, path: Path) -> None:
        self._provider = provider
        self.path = path

    def predict(self, image_u8: np.ndarray, window: Crop, positives: np.ndarray, negatives: np.ndarray,
                prev_mask: np.ndarray | None) -> np.ndarray:
        # only the window travels to the other process (the network sees nothing else)
        local = Crop(0, window.shape[0], 0, window.shape[1])
        offset = window.offset_xy
        return self._provider.predict(self.path, np.ascontiguousarray(window.take(image_u8)), local,
                                      positives - offset, negatives - offset,
                                      None if prev_mask is None else np.ascontiguousarray(window.take(prev_mask)))


class ClickModelProvider:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._loading: dict[Path, Future] = {}
        self._failed: set[Path] = set()
        self.last_error: str | None = None

    def model_path(self, store: ProjectStore) -> Path | None:
        """The user's click model, else the project's click-network version in use, else the shipped starter."""
        try:
            return ModelRegistry(store, store.folder, CLICK).in_use().path
        except CheckpointError as exc:  # a damaged registry: the user's setting still counts
            log.warning("click-network versions not readable: %s", exc)
            return store.path_setting(CLICK_MODEL_SETTING)

    def predictor(self, store: ProjectStore) -> RemoteClickPredictor | None:
        """The project's click model (its loading started in the background), or None without one."""
        path = self.model_path(store)
        if path is None or path in self._failed:
            return None
        if not path.is_file():
            self._give_up(path, "file not found")
            return None
        if path not in self._loading:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            self._loading[path] = self._pool.submit(model_process.load_click_model, str(path))
        return RemoteClickPredictor(self, path)

    def wait_until_loaded(self, path: Path, timeout: float) -> bool:
        """Block until the model named `path` has loaded (True) or failed / timed out (False)."""
        loading = self._loading.get(path)
        if loading is None:
            return False
        try:
            loading.result(timeout=timeout)
        except Exception as exc:
            self._give_up(path, str(exc) or type(exc).__name__)
            return False
        return True

    def predict(self, path: Path, image_u8: np.ndarray, window: Crop, positives: np.ndarray, negatives: np.ndarray,
                prev_mask: np.ndarray | None) -> np.ndarray:
        loading = self._loading.get(path)
        if path in self._failed or loading is None or self._pool is None:
            raise ClickModelUnavailable(f"click model {path.name} is not in use")
        if not loading.done():
            raise ClickModelUnavailable(f"click model {path.name} is still loading")
        try:
            loading.result()
            return self._pool.submit(model_process.click_predict, str(path), image_u8, window, positives,
                                     negatives, prev_mask).result(timeout=CLICK_TIMEOUT_S)
        except Exception as exc:  # a broken model must not stop annotation
            self._give_up(path, str(exc) or type(exc).__name__)
            raise ClickModelUnavailable(self.last_error or "") from None

    def forget_failure(self, path: Path) -> None:
        """Let a model that failed be tried again (the user chose it again)."""
        self._failed.discard(path)
        self._loading.pop(path, None)

    def _give_up(self, path: Path, reason: str) -> None:
        self._failed.add(path)
        self.last_error = f"Click model {path.name} not used: {reason}"
        log.warning(self.last_error)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
