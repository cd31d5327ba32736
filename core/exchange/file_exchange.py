"""One file into the frame on screen (the app's "into this frame" imports): a point JSON's calipers, or a mask
for one object. Whole exports and imports go through core.exchange.export and core.exchange.importing."""
from __future__ import annotations

from pathlib import Path

from core.annotation.points import Calipers
from core.errors import AnnotationFormatError
from core.exchange.formats.points import read_file
from core.io.mask_files import read_mask
from core.project.object_replace import NewObject
from core.project.records import FrameRecord, MaskProvenance
from core.project.store import ProjectStore

DEFAULT_EXPORT = ("png", "points", "csv")  # what the app's export wrote before there was a choice


def _annotatable(store: ProjectStore, frame_id: int, path: Path) -> FrameRecord:
    record = store.frame(frame_id)
    if not record.readable or record.height is None or record.width is None:
        raise AnnotationFormatError(path, f"frame {frame_id} ({record.source.name}) is unreadable: {record.error}")
    return record


def import_point_json(store: ProjectStore, frame_id: int, path: str | Path) -> dict[int, Calipers]:
    """Replace the frame's calipers with the nodules of a point JSON (new objects, in file order; classes from
    the shapes' descriptions, *nodule* when unknown) in one undoable edit; masks stay, and clicks and strokes too
    unless the file has some (they are replaced). A file without point shapes changes nothing. Returns the frame's
    calipers afterwards."""
    p = Path(path)
    record = _annotatable(store, frame_id, p)
    frame = read_file(p)
    if frame is None:
        return store.calipers(frame_id)
    if frame.size is not None and tuple(frame.size) != (record.height, record.width):
        raise AnnotationFormatError(p, f"labels are for a {frame.size[1]}x{frame.size[0]} image but the frame is "
                                       f"{record.width}x{record.height}")
    class_id = {c.name.lower(): c.id for c in store.classes()}
    objects = [NewObject(class_id.get(o.class_name.lower(), 1), None, o.calipers, o.clicks, o.strokes)
               for o in frame.objects]
    store.put_objects(frame_id, objects, MaskProvenance.PAINTED)
    return store.calipers(frame_id)


def import_mask(
    store: ProjectStore,
    frame_id: int,
    path: str | Path,
    object_id: int = 0,
    provenance: MaskProvenance = MaskProvenance.PAINTED,
) -> None:
    """Accept a mask file (nonzero = inside, same size as the frame) as the mask of `object_id`."""
    p = Path(path)
    record = _annotatable(store, frame_id, p)
    store.set_mask(frame_id, object_id, read_mask(p, (record.height, record.width)), provenance)
