"""Which stored masks are drafts: written by the app as edits land, not yet accepted with Enter.

The store keeps the flag (MaskRecord.accepted). The app writes the engine's mask after every edit with
accepted=False (so nothing is lost), and Enter accepts it (ProjectStore.accept_mask, one undoable edit: undo brings
the draft back, redo accepts it again). Masks from imports or the label pipeline are written accepted. Drafts are
left out of exports, of the "mask accepted" status and of training snapshots.

(Projects from before the flag kept this bookkeeping in settings "gui.draft_masks.<frame id>"; opening one
migrates it into the flag, see core.project.schema.)"""
from __future__ import annotations

from collections.abc import Mapping

from core.project.records import MaskRecord
from core.project.store import ProjectStore


def draft_objects(records: Mapping[int, MaskRecord]) -> frozenset[int]:
    """Objects whose current mask is a draft."""
    return frozenset(oid for oid, rec in records.items() if not rec.accepted)


def draft_frame_ids(store: ProjectStore) -> set[int]:
    """Frames with at least one draft mask (worker thread)."""
    return {r.id for r in store.draft_frames()}
