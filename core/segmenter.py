"""Segmenter S: one nodule's mask from its calipers and the image (classical), or a model probability map."""
from __future__ import annotations

import numpy as np

from core.annotations import Calipers
from core.labels import kite_ellipse


def segment_nodule(image: np.ndarray, calipers: Calipers, probability: np.ndarray | None = None) -> np.ndarray:
    return kite_ellipse(image.shape[:2], calipers)
