"""How far a propagated frame can be trusted, from four signs that each fall from 1 (fine) to 0 (look here):
the flow's forward-backward agreement on the object's boundary, the change of area from the previous frame, how
much the re-segmentation had to move the flow's mask, and (with a frame model) agreement with its mask. The
frame's confidence is the lowest of them, so one bad sign is enough to stop."""
from __future__ import annotations

import cv2
import numpy as np

from core.runtime.metrics import dice, iou

FB_LIMIT_PX = 4.0  # median forward-backward error on the boundary at which the flow says nothing
AREA_LIMIT = 1.4  # area ratio between neighbouring frames at which the area sign reaches 0
SHAPE_IOU_FULL, SHAPE_IOU_NONE = 0.9, 0.5  # IoU(flow's mask, engine's mask) for sign 1 and sign 0
MODEL_DICE_FULL, MODEL_DICE_NONE = 0.85, 0.4
MATCH_FULL, MATCH_NONE = 0.6, 0.2  # correlation of the frames round the object (flow undone)
_BAND = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))


def _ramp(value: float, zero_at: float, one_at: float) -> float:
    return float(np.clip((value - zero_at) / (one_at - zero_at), 0.0, 1.0))


def boundary_band(mask: np.ndarray) -> np.ndarray:
    m = np.asarray(mask, np.uint8)
    return (cv2.dilate(m, _BAND) > 0) & ~(cv2.erode(m, _BAND) > 0)


def confidence_scores(previous: np.ndarray, warped: np.ndarray, mask: np.ndarray, fb_error: np.ndarray,
                      match: float, model_mask: np.ndarray | None = None) -> dict[str, float]:
    """Signs in [0, 1] for one step previous -> mask (all (H, W) arrays of the same window). fb_error is per pixel
    of the previous frame; match the frames' correlation round the object (core.cine.flow.match_correlation);
    model_mask is the frame model's mask there, when a model exists."""
    band = boundary_band(previous)
    fb = float(np.median(fb_error[band])) if band.any() else FB_LIMIT_PX
    before, after = float(previous.sum()), float(mask.sum())
    area_change = abs(np.log(max(after, 1.0) / max(before, 1.0)))
    scores = {
        "flow": _ramp(fb, FB_LIMIT_PX, 0.0),
        "area": _ramp(area_change, np.log(AREA_LIMIT), 0.0),
        "shape": _ramp(iou(mask, warped), SHAPE_IOU_NONE, SHAPE_IOU_FULL),
        "match": _ramp(match, MATCH_NONE, MATCH_FULL),
    }
    if model_mask is not None:
        scores["model"] = _ramp(dice(mask, model_mask), MODEL_DICE_NONE, MODEL_DICE_FULL)
    return scores
