"""*Propose* on a frame tagged "nodule present" (WIML's interactive annotation): the frame model's map for the
frame (the stored prediction the caller passes, else asked of the model process now) turned into a draft mask
(core.labels.proposal) that clicks then refine. Blocks while the model answers: call it on a worker thread."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.interactive.session import InteractionSession
from core.labels.proposal import DEFAULT_METHOD, propose_mask
from core.project.store import ProjectStore
from core.serving.frame_loading import LoadedFrame
from core.serving.frame_model import ModelAnswer, ModelProvider


@dataclass(frozen=True)
class Proposal:
    """A new object's draft on an open frame, with the engine session that starts from it (its prior), and the
    model's answer when the frame had no stored prediction (for the caller to store, on its store worker). An
    empty mask (and no session): the model sees no nodule besides the frame's objects."""

    object_id: int
    mask: np.ndarray
    session: InteractionSession | None
    answer: ModelAnswer | None = None


def propose_object(provider: ModelProvider, store: ProjectStore, loaded: LoadedFrame, object_id: int,
                   probability: np.ndarray | None, taken: np.ndarray | None = None,
                   method: str = DEFAULT_METHOD) -> Proposal | None:
    """Propose `object_id` on the loaded frame from `probability` (None: ask the project's model now); `taken`,
    the pixels of the frame's other objects, is left out so the draft is a nodule not drawn yet. Writes nothing.
    None when there is no map (no model named, or it failed: provider.last_error says why)."""
    assert loaded.gray is not None
    answer = None
    if probability is None:
        path = provider.model_path(store)
        answer = None if path is None else provider.predict(path, loaded.gray)
        if answer is None:
            return None
        probability = answer.probability
    if taken is not None and taken.any():
        probability = np.where(taken, 0.0, probability).astype(np.float32)
        if probability.max() <= 0.5:  # the map's peak-region fallback would outline the background
            return Proposal(object_id, np.zeros(loaded.gray.shape[:2], bool), None, answer)
    mask = propose_mask(loaded.gray, probability, method)
    session = InteractionSession(loaded.gray, probability, loaded.click_model, prior=mask)
    return Proposal(object_id, mask, session, answer)
