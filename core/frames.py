"""PLACEHOLDER (being replaced by the frames helper): minimal still-image reader."""
from __future__ import annotations

from pathlib import Path

import cv2

from core.errors import FrameReadError
from core.frame import Frame


def read_frame(path: str | Path, index: int = 0) -> Frame:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise FrameReadError(path, "not a readable image")
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return Frame(img, Path(path), index)


def read_frames(path: str | Path) -> list[Frame]:
    return [read_frame(path)]
