"""A frame's status as the app shows it: the store's statuses plus "mask draft" (an engine mask not yet
accepted; see gui/drafts.py). A draft with complete calipers shows as "calipers"."""
from __future__ import annotations

from enum import StrEnum

from core.project.records import FrameStatus


class DisplayStatus(StrEnum):
    UNLABELLED = "unlabelled"
    CALIPERS = "calipers"
    DRAFT = "mask draft"
    ACCEPTED = "mask accepted"
    PREDICTED = "predicted only"
    UNREADABLE = "unreadable"

    @property
    def needs_work(self) -> bool:
        """No human annotation yet (what "next unlabelled frame" looks for)."""
        return self in (DisplayStatus.UNLABELLED, DisplayStatus.PREDICTED)


def display_status(unreadable: bool, accepted_mask: bool, calipers: bool, draft_mask: bool,
                   prediction: bool) -> DisplayStatus:
    """Precedence as in core.project.store.frame_statuses, with drafts between calipers and predictions."""
    if unreadable:
        return DisplayStatus.UNREADABLE
    if accepted_mask:
        return DisplayStatus.ACCEPTED
    if calipers:
        return DisplayStatus.CALIPERS
    if draft_mask:
        return DisplayStatus.DRAFT
    if prediction:
        return DisplayStatus.PREDICTED
    return DisplayStatus.UNLABELLED


FROM_STORE = {
    FrameStatus.UNLABELLED: DisplayStatus.UNLABELLED,
    FrameStatus.CALIPERS: DisplayStatus.CALIPERS,
    FrameStatus.MASK_ACCEPTED: DisplayStatus.ACCEPTED,
    FrameStatus.PREDICTED_ONLY: DisplayStatus.PREDICTED,
    FrameStatus.UNREADABLE: DisplayStatus.UNREADABLE,
}
