"""*Propose* on a frame tagged "nodule present" (WIML's interactive annotation): the frame model's map for the
frame (the stored prediction the caller passes, else asked of the model process now) turned into a draft mask
(core.labels.proposal) that clicks then refine. A project with no frame model yet but a click network (its own or
the starter) gets the click network's answer to one click where a nodule is likely instead
(core.interactive.one_click_draft). Blocks while the model answers: call it on a worker thread."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.interactive.one_click_draft import one_click_draft
from core.interactive.session import InteractionSession
from core.labels.proposal import DEFAULT_METHOD, propose_mask
from core.project.store import ProjectStore
from core.serving.frame_loading import LoadedFrame
from core.serving.frame_model import ModelAnswer, ModelProvider
from core.serving.prediction_verdict import MASK_THRESHOLD

FLAT = 1e-6  # a map whose values span less than this holds no place more likely than another


@dataclass(frozen=True)
class Proposal:
    """A new object's draft on an open frame, with the engine session that starts from it (its prior), and the
    model's answer when the frame had no stored prediction (for the caller to store, on its store worker). An
    empty mask (and no session): the model sees no nodule besides the frame's objects."""

    object_id: int
    mask: np.ndarray
    session: InteractionSession | None
    answer: ModelAnswer | None = None
    from_one_click: bool = False  # the click network's answer to one click (no frame model)


def propose_object(provider: ModelProvider, store: ProjectStore, loaded: LoadedFrame, object_id: int,
                   probability: np.ndarray | None, taken: np.ndarray | None = None,
                   method: str = DEFAULT_METHOD) -> Proposal | None:
    """Propose `object_id` on the loaded frame from `probability` (None: ask the project's model now); `taken`,
    the pixels of the frame's other objects, is left out so the draft is a nodule not drawn yet. Writes nothing.
    The user proposing says the frame holds a nodule, so where the model's presence gate blanked it, the
    segmenter's own map is used (asked of the model again when a map holding no nodule is passed). With no map and
    no frame model named, the click network's one-click draft. None when there is no map and no click
    network, or the model failed (provider.last_error says why)."""
    assert loaded.gray is not None
    answer = None
    if probability is None and provider.model_path(store) is None and loaded.click_model is not None:
        mask = one_click_draft(loaded.gray, loaded.click_model, taken)
        session = InteractionSession(loaded.gray, None, loaded.click_model, prior=mask)
        return Proposal(object_id, mask, session, from_one_click=True)
    if probability is None:
        answer = _ask(provider, store, loaded.gray)
        if answer is None:
            return None
        probability = answer.probability if answer.withheld is None else answer.withheld
    elif not (probability > MASK_THRESHOLD).any():
        again = _ask(provider, store, loaded.gray)
        if again is not None and again.withheld is not None:
            probability = again.withheld
    empty = Proposal(object_id, np.zeros(loaded.gray.shape[:2], bool), None, answer)
    if taken is not None and taken.any():
        probability = np.where(taken, 0.0, probability).astype(np.float32)
        if probability.max() <= MASK_THRESHOLD:  # the map's peak-region fallback would outline the background
            return empty
    if np.ptp(probability) < FLAT:  # no peak to fall back on: its "top share" would be the whole frame
        return empty
    mask = propose_mask(loaded.gray, probability, method)
    session = InteractionSession(loaded.gray, probability, loaded.click_model, prior=mask)
    return Proposal(object_id, mask, session, answer)


def _ask(provider: ModelProvider, store: ProjectStore, gray: np.ndarray) -> ModelAnswer | None:
    path = provider.model_path(store)
    return None if path is None else provider.predict(path, gray)
