"""Which unlabelled frame teaches the model most: rank frames by the uncertainty of its prediction."""
from __future__ import annotations

import numpy as np

from core.annotation.tags import FrameTag
from core.project.records import FrameStatus
from core.project.store import ProjectStore

MIN_AREA_PX = 200.0  # below this a predicted nodule counts as "nothing found", itself uncertain


def binary_entropy(probability: np.ndarray) -> np.ndarray:
    p = np.clip(probability.astype(np.float32), 1e-6, 1 - 1e-6)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def uncertainty(probability: np.ndarray) -> float:
    """Entropy mass of the map relative to the size of what it predicts: a crisp, confident nodule scores
    near 0; a fuzzy boundary, a nodule half-seen, or a frame where the model finds nothing scores high."""
    entropy_mass = float(binary_entropy(probability).sum())
    area = float((probability > 0.5).sum())
    return entropy_mass / max(area, MIN_AREA_PX)


def rank_unlabelled(store: ProjectStore) -> list[tuple[int, float]]:
    """(frame id, uncertainty) of frames nobody has labelled, most useful first. Frames tagged "no nodule" are
    labelled already (background everywhere: nothing left to outline) and never suggested. Frames with no
    prediction yet come last, in project order."""
    statuses = store.frame_statuses()
    tags = store.effective_tags()
    scored, unscored = [], []
    for record in store.frames():
        if statuses.get(record.id) not in (FrameStatus.UNLABELLED, FrameStatus.PREDICTED_ONLY):
            continue
        if tags.get(record.id) == FrameTag.NO_NODULE:
            continue
        prediction = store.prediction(record.id)
        if prediction is None:
            unscored.append((record.id, float("nan")))
        else:
            scored.append((record.id, uncertainty(prediction.probability)))
    scored.sort(key=lambda pair: -pair[1])
    return scored + unscored
