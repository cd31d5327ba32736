"""The format-neutral annotation set that every reader returns and every writer receives.

An object is one class's mask and/or its calipers and/or its sparse labels (clicks, scribbles, boxes); a frame may
carry its tag (no nodule / nodule present) for the formats that keep tags. Frames name their image by an absolute
source path and frame index (where a format can say which image it means) and by an export name (stable within one
export)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.annotation.measurements import Measurement
from core.annotation.points import Calipers, Point
from core.annotation.strokes import Stroke
from core.annotation.tags import FrameTag
from core.io.mask_codec import decode_mask


@dataclass(frozen=True)
class ClassInfo:
    name: str
    colour: str = "#f5c400"


@dataclass(frozen=True)
class ExchangeObject:
    class_name: str
    mask_or_png: np.ndarray | bytes | None = None  # (H, W) bool, or as the store keeps it (0/255 PNG), or none
    calipers: Calipers | None = None
    object_id: int | None = None  # the store's id, on export
    clicks: tuple[Point, ...] = ()  # foreground/background points
    strokes: tuple[Stroke, ...] = ()  # scribbles and boxes

    @property
    def has_mask(self) -> bool:
        return self.mask_or_png is not None

    @property
    def has_sparse(self) -> bool:
        return bool(self.clicks or self.strokes)

    @property
    def mask(self) -> np.ndarray | None:
        """The mask as (H, W) bool, decoded on every call when stored as PNG (an export of thousands of frames
        never holds them all decoded): take it once per use."""
        m = self.mask_or_png
        return decode_mask(m) if isinstance(m, bytes) else m

    @property
    def png(self) -> bytes | None:
        """The mask as the store keeps it (0/255 PNG), when it came from the store."""
        return self.mask_or_png if isinstance(self.mask_or_png, bytes) else None


@dataclass(frozen=True)
class ExchangeFrame:
    name: str  # file-name stem, unique within one export
    source: Path | None  # the image the annotations belong to; None when the file cannot say (DICOM-SEG by UID)
    index: int  # frame number inside the source (0 for still images)
    size: tuple[int, int] | None  # (height, width); None when the file does not say
    objects: tuple[ExchangeObject, ...]
    spacing_mm: tuple[float, float] | None = None
    multi_frame: bool = False  # the source holds several frames
    sop_instance_uid: str | None = None  # DICOM sources: the frame's SOP instance
    measurements: tuple[Measurement, ...] = ()  # on export: calipers and derived rows (core.project.frame_measurements)
    derived: tuple[tuple[int, Calipers], ...] = ()  # on export: (object id, axes derived from its mask)
    tag: FrameTag | None = None  # on export: the frame's effective tag (core.project.tag_edits)


@dataclass
class ExchangeSet:
    classes: list[ClassInfo]
    frames: list[ExchangeFrame] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "<what>: <why>" for everything left out
    clip_measurements: list[Measurement] = field(default_factory=list)  # on export: one row per object and clip

    @property
    def object_count(self) -> int:
        return sum(len(f.objects) for f in self.frames)
