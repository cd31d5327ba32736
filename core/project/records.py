"""The plain records the project store hands out."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np


class MaskProvenance(StrEnum):
    GENERATED = "generated"  # made by a model or the label pipeline and accepted unchanged
    REFINED = "refined"  # made by the interactive engine from clicks
    PAINTED = "painted"  # drawn or corrected by hand (also used for imported masks)


class FrameStatus(StrEnum):
    UNLABELLED = "unlabelled"
    CALIPERS = "calipers"  # a complete set of four caliper points or a draft mask (work begun), no accepted mask
    MASK_ACCEPTED = "mask accepted"
    PREDICTED_ONLY = "predicted only"  # a model prediction but no human annotation
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class FrameRecord:
    """One frame of the project. `path` is as stored (relative to the project folder when possible);
    `source` is the resolved file. width/height are None when the frame could not be read (`error` says why)."""

    id: int
    path: str
    source: Path
    index: int
    width: int | None
    height: int | None
    spacing_mm: tuple[float, float] | None
    content_hash: str | None
    error: str | None

    @property
    def readable(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class MaskRecord:
    object_id: int
    provenance: MaskProvenance
    created_at: str  # ISO 8601, UTC
    accepted: bool = True  # False: a draft, saved as the user edits and not yet accepted


@dataclass(frozen=True)
class Prediction:
    probability: np.ndarray  # (H, W) float32 in [0, 1], quantised to 1/255
    model_version: str
    created_at: str


@dataclass(frozen=True)
class HistoryStep:
    """A user action in the undo/redo history: its name and the frames it changed (one, or several for an action
    such as accepting a propagated range)."""

    name: str
    frame_ids: tuple[int, ...]

    def label(self, frame_id: int | None = None) -> str:
        """The action as a menu names it, seen from `frame_id`: "accept mask", "move point (frame 7)" when it is on
        another frame, "accept propagated range (12 frames)"."""
        if len(self.frame_ids) > 1:
            return f"{self.name} ({len(self.frame_ids)} frames)"
        if frame_id is not None and self.frame_ids != (frame_id,):
            return f"{self.name} (frame {self.frame_ids[0]})"
        return self.name
