"""*Propose* on a frame tagged "nodule present" (WIML's interactive annotation): the frame model's map for the
frame, the stored prediction when there is one, else asked of the model process now, turned into a draft mask
(core.labels.proposal) that clicks then refine. Blocks while the model answers: call it on a worker thread."""
from __future__ import annotations

import numpy as np

from core.labels.proposal import DEFAULT_METHOD, propose_mask
from core.project.store import ProjectStore
from core.serving.frame_model import ModelProvider


def propose_for_frame(provider: ModelProvider, store: ProjectStore, frame_id: int,
                      method: str = DEFAULT_METHOD) -> np.ndarray | None:
    """(H, W) bool draft for the frame, or None when there is no map to propose from (the project names no
    model, or it failed: provider.last_error says why)."""
    gray = store.load_frame(frame_id).gray_u8()
    stored = store.prediction(frame_id)
    if stored is not None:
        probability = np.asarray(stored.probability, np.float32)
    else:
        path = provider.model_path(store)
        answer = None if path is None else provider.predict(path, gray)
        if answer is None:
            return None
        store.set_prediction(frame_id, answer.probability, answer.model_version)
        probability = answer.probability
    return propose_mask(gray, probability, method)
