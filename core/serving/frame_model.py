"""The optional trained frame model: when the project setting "model_path" names a checkpoint (absolute, or
relative to the project folder), unlabelled frames get the model's predicted mask, stored with the frame. Without
the setting nothing is predicted and torch is never imported.

The model runs in a separate process (one worker; see core.serving.model_process). The app starts it when it
starts and passes it to every project (`ModelProcess`, kept across projects); without one, the provider starts its
own on first use. The first answer may include starting that process and importing torch, which can take minutes
on a slow machine: `starting` says so meanwhile, and the caller waits on a thread of its own (never the one that
writes the store or loads frames)."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.project.records import FrameRecord, FrameStatus
from core.project.store import ProjectStore
from core.serving import model_process
from core.serving.click_model import ClickModelProvider
from core.serving.model_failures import ModelFailures
from core.serving.process_pool import ModelProcess, spawn_pool

MODEL_SETTING = "model_path"
WARM_UP_PX = 32  # the blank frame that makes the model process load torch and the model
PREDICT_TIMEOUT_S = 300.0  # the first call includes starting the process and loading torch


@dataclass(frozen=True)
class ModelAnswer:
    probability: np.ndarray  # (H, W) float32 nodule probability
    model_version: str  # "<checkpoint file>:<epoch>", as stored with the prediction
    presence: float | None = None  # the model's presence gate: probability that the frame holds a nodule
    withheld: np.ndarray | None = None  # the segmenter's own map on a frame its presence gate blanked


def app_model_process() -> ModelProcess:
    """The model process an app keeps across its projects (started by its `start`)."""
    return ModelProcess(lambda: spawn_pool())  # looked up when used: tests put a thread pool in its place


class ModelProvider(ModelFailures):
    """The project's frame model (and, in `clicks`, its click network), each in a process of its own: the frame
    model's is `process` (shared, outliving this provider), or one made by `new_pool` (tests pass a thread pool)
    that this provider owns."""

    def __init__(self, new_pool: Callable[[], Executor] | None = None, process: ModelProcess | None = None) -> None:
        super().__init__()
        self._owns_process = process is None
        self._process = process or ModelProcess(new_pool or spawn_pool)
        self._closing: Future = Future()  # done once closed: wakes every caller waiting for an answer
        self._answered = False
        self._closed = False
        self._asked: Path | None = None  # the model of the latest request
        self.clicks = ClickModelProvider(new_pool)

    def model_path(self, store: ProjectStore) -> Path | None:
        """The checkpoint the project names, or None."""
        return store.path_setting(MODEL_SETTING)

    @property
    def starting(self) -> bool:
        """The model process has neither answered yet nor imported torch ahead of time, and the model last asked
        (if any) has not failed."""
        return (not self._answered and not self._process.warm
                and (self._asked is None or self._asked not in self._failed))

    def wanted(self, store: ProjectStore, frame_id: int, annotated: bool, replace: bool = False) -> Path | None:
        """The model to predict the frame with, or None: the frame is annotated, already has a prediction
        (unless `replace`), or the project names no usable model."""
        if annotated:
            return None
        if not replace and store.prediction(frame_id) is not None:
            return None
        return self._usable(self.model_path(store))

    @property
    def ready(self) -> bool:
        """The model process has answered: the next predictions take inference time only."""
        return self._answered

    def warm_up(self, store: ProjectStore) -> Path | None:
        """Start the model process and load the project's model now (blocks; call it on a worker when the
        project opens), so the first frame shown does not wait for torch to import. The model that answered,
        or None (no model, or it failed: `last_error` says why)."""
        path = self._usable(self.model_path(store))
        if path is None:
            return None
        return path if self.predict(path, np.zeros((WARM_UP_PX, WARM_UP_PX), np.uint8)) is not None else None

    def predict(self, path: Path, gray: np.ndarray) -> ModelAnswer | None:
        """The model's answer for one gray uint8 frame (blocks up to PREDICT_TIMEOUT_S); None when the model
        fails, which is remembered: it is not asked again and `last_error` says why; None once closed."""
        if self._closed or path in self._failed:
            return None
        self._asked = path
        try:
            request = self._process.submit(model_process.predict, str(path), gray)
            wait([request, self._closing], timeout=PREDICT_TIMEOUT_S, return_when=FIRST_COMPLETED)
            if self._closed:
                request.cancel()
                return None
            probability, version, presence, withheld = request.result(timeout=0)
        except Exception as exc:  # a broken model must not stop annotation
            if self._closed:  # closed meanwhile: the project is gone, the model did not fail
                return None
            if isinstance(exc, BrokenProcessPool):  # the next request starts a new process (ModelProcess)
                self._answered = False
                exc = RuntimeError("the model process ended unexpectedly (killed, or out of memory?)")
            self._give_up(path, str(exc) or type(exc).__name__)
            return None
        self._answered = True
        return ModelAnswer(np.asarray(probability, np.float32), f"{path.name}:{version}", presence, withheld)

    def predict_if_needed(self, store: ProjectStore, record: FrameRecord, gray: np.ndarray, annotated: bool,
                          replace: bool = False) -> np.ndarray | None:
        """Predict an unannotated frame and store the prediction (see `wanted`); the probability, or None."""
        path = self.wanted(store, record.id, annotated, replace)
        answer = None if path is None else self.predict(path, gray)
        if answer is None:
            return None
        store.set_prediction(record.id, answer.probability, answer.model_version)
        return answer.probability

    def repredict(self, store: ProjectStore, frame_id: int) -> bool:
        """Redo the frame's prediction with the model the project names now, unless a human has annotated it
        meanwhile; whether a prediction was stored."""
        if store.calipers(frame_id) or store.masks(frame_id):
            return False
        gray = store.load_frame(frame_id).gray_u8()
        return self.predict_if_needed(store, store.frame(frame_id), gray, annotated=False, replace=True) is not None

    def take_error(self) -> str | None:
        """The latest failure message, once (None when there is nothing new)."""
        error, self.last_error = self.last_error, None
        return error

    def close(self) -> None:
        """Answer every waiting request with None now; stop the click model's process, and the frame model's
        if this provider owns it (a shared one keeps running for the next project)."""
        self.clicks.close()
        self._closed = True
        if not self._closing.done():
            self._closing.set_result(None)
        if self._owns_process:
            self._process.close()


def switch_model(store: ProjectStore, path: Path) -> list[int]:
    """Name `path` as the project's frame model (relative to the project folder when inside it) and return the
    frames whose prediction it should redo: readable ones without a human annotation."""
    try:
        setting = str(path.relative_to(store.folder))
    except ValueError:
        setting = str(path)
    store.set_setting(MODEL_SETTING, setting)
    statuses = store.frame_statuses()
    unlabelled = (FrameStatus.UNLABELLED, FrameStatus.PREDICTED_ONLY)
    return [r.id for r in store.frames() if r.readable and statuses.get(r.id) in unlabelled]
