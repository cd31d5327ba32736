"""A clip's frames as gray uint8 images, read lazily from the file (a long cine loop never sits in memory whole)
with the few most recent kept, since propagation walks neighbouring frames."""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from core.io.readers import count_frames, read_frame

KEPT_FRAMES = 8


class ClipFrames:
    """Sequence of the gray uint8 frames of a cine DICOM, multi-page TIFF or video."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._count = count_frames(self.path)
        self._kept: OrderedDict[int, np.ndarray] = OrderedDict()
        first = read_frame(self.path, 0)
        self.spacing_mm = first.spacing_mm
        self._keep(0, first.gray_u8())

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < self._count:
            raise IndexError(f"frame {index} is outside the clip ({self._count} frames)")
        image = self._kept.get(index)
        if image is None:
            image = self._keep(index, read_frame(self.path, index).gray_u8())
        else:
            self._kept.move_to_end(index)
        return image

    def _keep(self, index: int, image: np.ndarray) -> np.ndarray:
        self._kept[index] = image
        while len(self._kept) > KEPT_FRAMES:
            self._kept.popitem(last=False)
        return image
