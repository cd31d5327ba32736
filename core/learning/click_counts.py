"""How many clicks an accepted mask took: the clicks stored with the frame (calipers not counted), the figure
the training tab plots over the session to show the loop paying off."""
from __future__ import annotations

from core.annotation.points import PointKind
from core.project.store import ProjectStore

CLICK_KINDS = (PointKind.FOREGROUND, PointKind.BACKGROUND)


def clicks_of_frame(store: ProjectStore, frame_id: int) -> int:
    return sum(point.kind in CLICK_KINDS for point in store.points(frame_id).values())
