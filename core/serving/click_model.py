"""The optional click-conditioned network (project setting "click_model_path", a checkpoint trained with
`python -m core train --supervision interactive`). It runs in its own process, like the frame model (see
core/serving/frame_model.py), and is loaded as soon as a project names one. Until it is loaded, or if it fails, the
interactive engine answers clicks without it: a click never waits for torch to start."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from core.errors import CheckpointError, ClickModelUnavailable
from core.labels.crop import Crop
from core.learning.versions import CLICK, ModelRegistry
from core.project.store import ProjectStore
from core.serving import model_process
from core.serving.model_failures import ModelFailures
from core.serving.process_pool import spawn_pool, stop_pool

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


class ClickModelProvider(ModelFailures):
    """The project's click network in a process of its own (`new_pool` makes that process; tests pass threads)."""

    model_label = "Click model"

    def __init__(self, new_pool: Callable[[], Executor] | None = None) -> None:
        super().__init__()
        self._new_pool = new_pool or spawn_pool
        self._pool: Executor | None = None
        self._closed = False
        self._lock = threading.Lock()  # the load worker starts the process; the GUI thread closes it
        self._loading: dict[Path, Future] = {}

    def model_path(self, store: ProjectStore) -> Path | None:
        """The user's click model, else the project's click-network version in use, else the shipped starter."""
        try:
            return ModelRegistry(store, store.folder, CLICK).in_use().path
        except CheckpointError as exc:  # a damaged registry: the user's setting still counts
            log.warning("click-network versions not readable: %s", exc)
            return store.path_setting(CLICK_MODEL_SETTING)

    def predictor(self, store: ProjectStore) -> RemoteClickPredictor | None:
        """The project's click model (its loading started in the background), or None without one."""
        path = self._usable(self.model_path(store))
        if path is None:
            return None
        with self._lock:
            if self._closed:
                return None
            if path not in self._loading:
                self._loading[path] = self._submit_load(path)
        return RemoteClickPredictor(self, path)

    def _submit_load(self, path: Path) -> Future:
        """Send the load request (the caller holds the lock), to a new process if the last one died idle."""
        if self._pool is None:
            self._pool = self._new_pool()
        try:
            return self._pool.submit(model_process.load_click_model, str(path))
        except BrokenProcessPool:
            stop_pool(self._pool)
            self._pool = self._new_pool()
            return self._pool.submit(model_process.load_click_model, str(path))

    def wait_until_loaded(self, path: Path, timeout: float) -> bool:
        """Block until the model named `path` has loaded (True) or failed / timed out (False)."""
        loading = self._loading.get(path)
        if loading is None:
            return False
        try:
            loading.result(timeout=timeout)
        except Exception as exc:
            self._give_up(path, self._reason(exc))
            return False
        return True

    def predict(self, path: Path, image_u8: np.ndarray, window: Crop, positives: np.ndarray, negatives: np.ndarray,
                prev_mask: np.ndarray | None) -> np.ndarray:
        """The network's answer over `window`; ClickModelUnavailable while it loads or once it has failed."""
        loading, pool = self._loading.get(path), self._pool
        if path in self._failed or loading is None or pool is None:
            raise ClickModelUnavailable(f"click model {path.name} is not in use")
        if not loading.done():
            raise ClickModelUnavailable(f"click model {path.name} is still loading")
        try:
            loading.result()
            return pool.submit(model_process.click_predict, str(path), image_u8, window, positives,
                                     negatives, prev_mask).result(timeout=CLICK_TIMEOUT_S)
        except Exception as exc:  # a broken model must not stop annotation
            self._give_up(path, self._reason(exc))
            raise ClickModelUnavailable(self.last_error or "") from None

    def _reason(self, exc: BaseException) -> str:
        """Why a request failed; a dead model process is forgotten, so that the next load starts a new one."""
        if not isinstance(exc, BrokenProcessPool):
            return str(exc) or type(exc).__name__
        with self._lock:
            pool, self._pool = self._pool, None
            self._loading.clear()  # every load was in the dead process
        if pool is not None:
            stop_pool(pool)
        return "the model process ended unexpectedly (killed, or out of memory?)"

    def forget_failure(self, path: Path) -> None:
        super().forget_failure(path)
        self._loading.pop(path, None)

    def close(self) -> None:
        """Stop the model process (requests still queued are dropped); no new one is started."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            stop_pool(pool)
