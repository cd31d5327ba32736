"""Loading a frame for the editor, on the load worker: pixels, display levels, annotations, one interactive-engine
session per object (plus one for the next new object), and which model (if any) should predict it. The model's
prediction itself is asked for afterwards on the inference worker, so a frame never waits for the model."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import FrameReadError
from core.interactive.engine_state import EngineState
from core.interactive.session import InteractionSession
from core.io.display_levels import default_levels
from core.project.classes import DEFAULT_CLASS_ID
from core.project.frame_edits import FrameAnnotations, read_annotations
from core.project.records import FrameRecord
from core.project.store import ProjectStore
from core.serving.frame_model import ModelProvider


@dataclass
class LoadedFrame:
    record: FrameRecord
    annotations: FrameAnnotations
    pixels: np.ndarray | None = None  # as stored: gray or RGB, uint8 or uint16
    gray: np.ndarray | None = None  # uint8, what the engine works on
    levels: tuple[float, float] = (0.0, 255.0)  # default window for display
    sessions: dict[int, InteractionSession] = field(default_factory=dict)
    error: str | None = None  # why the frame cannot be shown
    click_model: Any = None  # the project's click-conditioned network (core.serving.click_model), if any
    predict_with: Path | None = None  # the frame model to ask for a prediction (none stored yet)

    @property
    def readable(self) -> bool:
        return self.error is None and self.pixels is not None


# The frame model is a nodule model: its map is evidence for objects of the default class only.
FRAME_MODEL_CLASS = DEFAULT_CLASS_ID


def new_session(loaded: LoadedFrame, object_id: int, probability: np.ndarray | None = None,
                class_id: int | None = None) -> InteractionSession:
    """An engine session for one object of the frame (of `class_id`, else of its stored class), seeded with
    `probability` or else the stored prediction when the object is of the frame model's class; a draft with no
    calipers or clicks behind it (a propagated frame's) is its prior, so clicks refine it."""
    assert loaded.gray is not None
    if class_id is None:
        class_id = loaded.annotations.class_of(object_id)
    model_map = loaded.annotations.prediction if probability is None else probability
    if class_id != FRAME_MODEL_CLASS:
        model_map = None  # a gland round a nodule is not where the nodule model says "nodule"
    prior = draft_prior(loaded.annotations, object_id)
    return InteractionSession(loaded.gray, model_map, loaded.click_model, prior=prior)


def session_for(loaded: LoadedFrame, object_id: int, class_id: int) -> InteractionSession:
    """The object's session as an object of `class_id`: the one made for it, unless that one carries the frame
    model's nodule evidence and the object is of another class (then a new one, which the engine state replays)."""
    session = loaded.sessions.get(object_id)
    if session is None or (class_id != FRAME_MODEL_CLASS and session.model_logit is not None):
        session = loaded.sessions[object_id] = new_session(loaded, object_id, class_id=class_id)
    return session


def draft_prior(annotations: FrameAnnotations, object_id: int) -> np.ndarray | None:
    if object_id not in annotations.drafts or object_id in annotations.calipers():
        return None
    if EngineState.from_points(annotations.points.items(), object_id).clicks:
        return None
    if any(s.object_id == object_id for s in annotations.strokes.values()):  # the engine's mask, not a carried one
        return None
    return annotations.masks.get(object_id)


def sessions_after_history(loaded: LoadedFrame, snapshot: FrameAnnotations,
                           started: dict[int, np.ndarray | None]) -> dict[int, InteractionSession]:
    """The sessions to replace once an undo or redo made `snapshot` the frame's state, given the prior each
    object's session `started` from: an object the store no longer holds starts again from nothing (an undone
    proposal must not come back with the next click), one whose draft prior came back (a redone proposal) starts
    from it. An object refined by clicks keeps its session: it started from its prior."""
    assert loaded.gray is not None
    held = set(snapshot.object_ids())
    replaced = {}
    for object_id, prior_before in started.items():
        prior = draft_prior(snapshot, object_id) if object_id in held else None
        if prior is None and (object_id in held or prior_before is None):
            continue
        if prior is not None and prior_before is not None and np.array_equal(prior, prior_before):
            continue
        model_map = snapshot.prediction if snapshot.class_of(object_id) == FRAME_MODEL_CLASS else None
        replaced[object_id] = InteractionSession(loaded.gray, model_map, loaded.click_model, prior=prior)
    return replaced


def load_frame(store: ProjectStore, frame_id: int, model: ModelProvider | None = None) -> LoadedFrame:
    record = store.frame(frame_id)
    annotations = read_annotations(store, frame_id)
    if not record.readable:
        return LoadedFrame(record, annotations, error=record.error)
    try:
        frame = store.load_frame(frame_id)
    except FrameReadError as exc:
        return LoadedFrame(record, annotations, error=exc.reason)
    loaded = LoadedFrame(record, annotations, frame.pixels, frame.gray_u8(), default_levels(frame.pixels))
    if model is not None:
        loaded.click_model = model.clicks.predictor(store)
        if annotations.prediction is None:
            loaded.predict_with = model.wanted(store, frame_id, annotated=bool(annotations.object_ids()))
    object_ids = annotations.object_ids()
    for object_id in [*object_ids, (max(object_ids) + 1) if object_ids else 0]:
        loaded.sessions[object_id] = new_session(loaded, object_id)
    return loaded
