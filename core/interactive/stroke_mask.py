"""The interactive engine's mask from a frame's strokes alone (scribbles and boxes, no clicks or calipers): what
the app would show after them, used as a pseudo-label where a frame has nothing denser (the background trainer's
stroke frames, `train --sparse-pseudo engine`)."""
from __future__ import annotations

import numpy as np

from core.annotation.strokes import Stroke
from core.interactive.engine_state import EngineState, bring_up_to_date
from core.interactive.session import InteractionSession


def mask_from_strokes(image: np.ndarray, strokes: list[Stroke]) -> np.ndarray:
    """The union of the engine's masks of each stroked object, from its box and scribbles; an object with only
    background scribbles has none."""
    shape = image.shape[:2]
    mask = np.zeros(shape, bool)
    for object_id in sorted({s.object_id for s in strokes}):
        state = EngineState.from_labels([], list(enumerate(strokes)), object_id, shape)
        if state.box is not None or any(s.foreground for s in state.scribbles):
            mask |= bring_up_to_date(InteractionSession(image), state)
    return mask
