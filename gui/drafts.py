"""Which stored masks are drafts: written by the app as edits land, not yet accepted with Enter.

The store (core/store.py) has one kind of mask, "accepted". The app writes the engine's mask after every edit
(so nothing is lost) and remembers, per frame and object, the creation times of the masks it wrote as drafts
(setting "gui.draft_masks.<frame id>"). A mask is a draft while its record's created_at is one of those. Accepting
rewrites the mask (a new record, not remembered), so undo of an accept brings the draft record back and it is a
draft again; masks from imports or other tools were never remembered and count as accepted.
NOTE for core: an `accepted` flag on the masks table would replace this bookkeeping (and keep drafts out of
export_project / training, which today treat every stored mask as accepted)."""
from __future__ import annotations

from collections.abc import Mapping

from core.store import ProjectStore
from core.store_records import MaskRecord

KEEP_PER_OBJECT = 200  # enough for the store's undo depth of a frame


def _key(frame_id: int) -> str:
    return f"gui.draft_masks.{frame_id}"


def mark_draft(store: ProjectStore, frame_id: int, object_id: int) -> None:
    """Remember the object's current mask record as a draft."""
    record = store.masks(frame_id).get(object_id)
    if record is None:
        return
    book = store.get_setting(_key(frame_id), {})
    stamps = [s for s in book.get(str(object_id), []) if s != record.created_at]
    book[str(object_id)] = [*stamps, record.created_at][-KEEP_PER_OBJECT:]
    store.set_setting(_key(frame_id), book)


def draft_objects(store: ProjectStore, frame_id: int, records: Mapping[int, MaskRecord]) -> frozenset[int]:
    """Objects whose current mask is a draft."""
    if not records:
        return frozenset()
    book = store.get_setting(_key(frame_id), {})
    return frozenset(oid for oid, rec in records.items() if rec.created_at in book.get(str(oid), ()))
