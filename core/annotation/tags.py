"""Frame-level labels: whether a frame holds a nodule, judged without drawing it."""
from __future__ import annotations

from enum import StrEnum


class FrameTag(StrEnum):
    NO_NODULE = "no_nodule"  # the whole frame is confident background
    NODULE = "nodule"  # a nodule is present somewhere (a frame with an accepted mask counts as this too)

    @property
    def title(self) -> str:
        return "No nodule" if self is FrameTag.NO_NODULE else "Nodule present"
