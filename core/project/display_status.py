"""A frame's status as the app shows it: the store's statuses plus "mask draft", and which masks are drafts.

A draft is a mask written as edits land and not yet accepted with Enter. The store keeps the flag
(MaskRecord.accepted): the app writes the engine's mask after every edit with accepted=False (so nothing is lost)
and Enter accepts it (ProjectStore.accept_mask, one undoable edit). Masks from imports or the label pipeline are
written accepted. Drafts are left out of exports, of the "mask accepted" status and of training snapshots. A
frame whose only work is a draft mask shows as "mask draft"; a draft with complete calipers shows as "calipers".
(Projects from before the flag kept drafts in settings "gui.draft_masks.<frame id>"; opening one migrates them
into the flag, see core.project.schema.)"""
from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from core.annotation.tags import FrameTag
from core.project.records import FrameRecord, FrameStatus, MaskRecord
from core.project.store import ProjectStore


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


def needs_work(status: DisplayStatus | None, tag: FrameTag | None) -> bool:
    """A frame still to annotate: no human annotation yet and not judged "no nodule" (nothing to outline)."""
    return status is not None and status.needs_work and tag is not FrameTag.NO_NODULE


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


def draft_objects(records: Mapping[int, MaskRecord]) -> frozenset[int]:
    """Objects whose current mask is a draft."""
    return frozenset(oid for oid, rec in records.items() if not rec.accepted)


def draft_frame_ids(store: ProjectStore) -> set[int]:
    """Frames with at least one draft mask."""
    return {r.id for r in store.draft_frames()}


def new_frame_status(record: FrameRecord) -> DisplayStatus:
    """The status of a frame just added to the project (nothing on it yet)."""
    return DisplayStatus.UNREADABLE if record.error else DisplayStatus.UNLABELLED


def list_frames(store: ProjectStore) -> tuple[list[FrameRecord], dict[int, DisplayStatus]]:
    """Every frame of the project with its displayed status."""
    records = store.frames()
    statuses = store.frame_statuses()
    drafts = draft_frame_ids(store)
    shown: dict[int, DisplayStatus] = {}
    for record in records:
        status = FROM_STORE[statuses[record.id]]
        if status == DisplayStatus.CALIPERS and record.id in drafts:  # the store counts a lone draft as calipers
            status = display_status(False, False, bool(store.calipers(record.id)), True, False)
        shown[record.id] = status
    return records, shown
