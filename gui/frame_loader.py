"""Loading a frame for the editor, on a worker thread: pixels, display levels, annotations, the model's
prediction, and one interactive-engine session per object (plus one for the next new object)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.errors import FrameReadError
from core.interactive.session import InteractionSession
from core.project.records import FrameRecord
from core.project.store import ProjectStore
from gui.frame_state import FrameAnnotations, read_annotations
from gui.model_provider import ModelProvider


@dataclass
class LoadedFrame:
    record: FrameRecord
    annotations: FrameAnnotations
    pixels: np.ndarray | None = None  # as stored: gray or RGB, uint8 or uint16
    gray: np.ndarray | None = None  # uint8, what the engine works on
    levels: tuple[float, float] = (0.0, 255.0)  # default window for display
    sessions: dict[int, InteractionSession] = field(default_factory=dict)
    error: str | None = None  # why the frame cannot be shown
    click_model: Any = None  # the project's click-conditioned network (gui.click_model_provider), if any

    @property
    def readable(self) -> bool:
        return self.error is None and self.pixels is not None


def default_levels(pixels: np.ndarray) -> tuple[float, float]:
    """Full range for 8-bit data; for 16-bit (DICOM) a window over the 0.5-99.5 percentiles."""
    if pixels.dtype == np.uint8:
        return 0.0, 255.0
    sample = pixels[::4, ::4] if pixels.size > 1_000_000 else pixels
    lo, hi = (float(v) for v in np.percentile(sample, (0.5, 99.5)))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def new_session(loaded: LoadedFrame, prior: np.ndarray | None = None) -> InteractionSession:
    assert loaded.gray is not None
    return InteractionSession(loaded.gray, loaded.annotations.prediction, loaded.click_model, prior=prior)


def draft_prior(annotations: FrameAnnotations, object_id: int) -> np.ndarray | None:
    """A draft with no calipers or clicks behind it (a propagated frame's): clicks refine it, not a blank."""
    if object_id not in annotations.drafts or object_id in annotations.calipers() or annotations.clicks(object_id):
        return None
    return annotations.masks.get(object_id)


def load_frame(store: ProjectStore, frame_id: int, model: ModelProvider | None = None) -> LoadedFrame:
    record = store.frame(frame_id)
    annotations = read_annotations(store, frame_id)
    if not record.readable:
        return LoadedFrame(record, annotations, error=record.error)
    try:
        frame = store.load_frame(frame_id)
    except FrameReadError as exc:
        return LoadedFrame(record, annotations, error=exc.reason)
    gray = frame.gray_u8()
    if model is not None and annotations.prediction is None:
        probability = model.predict_if_needed(store, record, gray, annotated=bool(annotations.object_ids()))
        if probability is not None:
            annotations = replace(annotations, prediction=probability)
    loaded = LoadedFrame(record, annotations, frame.pixels, gray, default_levels(frame.pixels))
    if model is not None:
        loaded.click_model = model.clicks.predictor(store)
    object_ids = annotations.object_ids()
    for object_id in [*object_ids, (max(object_ids) + 1) if object_ids else 0]:
        loaded.sessions[object_id] = new_session(loaded, draft_prior(annotations, object_id))
    return loaded
