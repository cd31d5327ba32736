"""Import through the registry: read and validate every file first, match each annotated frame to a project
frame (or to an image that will be added), show what will change, then apply everything in one transaction or
not at all.

Matching, in order: the file's image path and frame index; for DICOM-SEG, the referenced SOP instance among the
project's DICOM files and those under `sources`; the frame's export name (a folder exported from this project);
else the named image file is added to the project where it is. What an import changes on a frame: its accepted
masks are replaced when the file gives it masks, its calipers when the file gives it calipers, its clicks and
strokes when the file gives it some; draft masks stay. A file that tags a frame (the `tags` format) sets its tag; a
*no nodule* tag on a frame that has or gets annotations is refused. Frames the file annotates with nothing are left
alone. Classes are matched by name (case-insensitive); new names become new classes. The whole import is one user
action: one transaction and one undo step over every frame it changes."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.annotation.bounds import check_inside
from core.annotation.tags import FrameTag
from core.errors import AnnotationFormatError, FrameReadError
from core.exchange.model import ClassInfo, ExchangeFrame, ExchangeSet
from core.exchange.names import export_names
from core.exchange.registry import get_format
from core.io.dicom_reader import sop_instance_uid
from core.io.readers import iter_frames
from core.project.classes import is_colour
from core.project.object_replace import NewObject
from core.project.records import FrameRecord, MaskProvenance
from core.project.store import ProjectStore


@dataclass(frozen=True)
class FrameChange:
    """What the import will do to one frame: counts before -> after."""

    name: str
    source: Path
    index: int
    frame_id: int | None  # None: the image is not in the project yet and will be added
    masks: tuple[int, int]
    calipers: tuple[int, int]
    classes: tuple[str, ...]
    tag: tuple[str, str] | None = None  # the frame's tag before -> after, when the file tags it

    def line(self) -> str:
        where = f"{self.source.name}" + (f" frame {self.index}" if self.index else "")
        new = " (new frame)" if self.frame_id is None else ""
        if self.tag is not None:
            return f"{where}{new}: tag {self.tag[0]} -> {self.tag[1]}"
        return (f"{where}{new}: masks {self.masks[0]} -> {self.masks[1]}, calipers {self.calipers[0]} -> "
                f"{self.calipers[1]} ({', '.join(self.classes)})")


@dataclass
class ImportPlan:
    format: str
    input: Path
    changes: list[FrameChange]
    new_classes: list[ClassInfo]
    skipped: list[str]
    frames: list[ExchangeFrame] = field(repr=False, default_factory=list)  # in step with changes

    @property
    def objects(self) -> int:
        return sum(len(f.objects) for f in self.frames)

    def preview(self) -> list[str]:
        lines = [f"{len(self.changes)} frames, {self.objects} objects from {self.input.name} ({self.format})"]
        lines += [f"new class: {c.name}" for c in self.new_classes]
        lines += [c.line() for c in self.changes]
        lines += [f"skipped: {s}" for s in self.skipped]
        return lines

    def summary(self) -> dict:
        return {"frames": len(self.changes), "objects": self.objects, "skipped": self.skipped,
                "new_frames": sum(c.frame_id is None for c in self.changes),
                "new_classes": [c.name for c in self.new_classes]}


class _Frames:
    """The project's frames, findable by source and index, SOP instance and export name."""

    def __init__(self, store: ProjectStore, sources: Path | None) -> None:
        self.records = [r for r in store.frames()]
        self.by_source = {(r.source, r.index): r for r in self.records}
        names = export_names(self.records)
        self.by_name = {names[r.id].lower(): r for r in self.records}
        self._sources = sources
        self._by_uid: dict[str, Path] | None = None

    def uid_index(self) -> dict[str, Path]:
        if self._by_uid is None:
            files = {r.source for r in self.records}
            if self._sources is not None:
                files |= {p for p in self._sources.rglob("*") if p.is_file()}
            self._by_uid = {uid: f for f in sorted(files) if (uid := sop_instance_uid(f)) is not None}
        return self._by_uid

    def find(self, frame: ExchangeFrame) -> tuple[Path, FrameRecord | None]:
        source = frame.source
        if source is None and frame.sop_instance_uid is not None:
            source = self.uid_index().get(frame.sop_instance_uid)
            if source is None:
                raise AnnotationFormatError(Path(frame.name), f"source image {frame.sop_instance_uid} is neither in "
                                                              "the project nor under the sources folder")
        if source is not None and (source, frame.index) in self.by_source:
            return source, self.by_source[(source, frame.index)]
        if frame.name.lower() in self.by_name:
            record = self.by_name[frame.name.lower()]
            return record.source, record
        if source is None:
            raise AnnotationFormatError(Path(frame.name), f"no project frame is named {frame.name!r}")
        if not source.is_file():
            raise AnnotationFormatError(Path(frame.name), f"image {source} not found and no project frame is "
                                                          f"named {frame.name!r}")
        return source, None


def _size_of_new(source: Path, index: int) -> tuple[int, int]:
    for frame in iter_frames(source):
        if frame.index == index:
            return frame.height, frame.width
    raise FrameReadError(source, f"has no frame {index}")


def _validate(frame: ExchangeFrame, size: tuple[int, int], where: Path) -> None:
    if frame.size is not None and tuple(frame.size) != size:
        raise AnnotationFormatError(where, f"{frame.name}: annotations are for a {frame.size[1]}x{frame.size[0]} "
                                           f"image but the frame is {size[1]}x{size[0]}")
    for obj in frame.objects:
        mask = obj.mask
        if mask is not None and mask.shape != size:
            raise AnnotationFormatError(where, f"{frame.name}: a mask is {mask.shape[1]}x{mask.shape[0]}, "
                                               f"the frame {size[1]}x{size[0]}")
        points = [] if obj.calipers is None else [tuple(p) for p in obj.calipers.as_array()]
        points += [(p.x, p.y) for p in obj.clicks] + [xy for s in obj.strokes for xy in s.points]
        check_inside(where, points, width=size[1], height=size[0])


def _check_tag(store: ProjectStore, frame: ExchangeFrame, record: FrameRecord | None, where: Path) -> None:
    """A *no nodule* tag only on a frame left without annotations."""
    if frame.tag is not FrameTag.NO_NODULE:
        return
    if frame.objects or (record is not None and store.object_classes(record.id)):
        raise AnnotationFormatError(where, f"{frame.name}: tagged no nodule but the frame has annotations (remove "
                                           f"them first)")


def plan_import(store: ProjectStore, format_name: str, path: str | Path, sources: str | Path | None = None
                ) -> ImportPlan:
    """Read and check everything; change nothing. AnnotationFormatError/FrameReadError name the first problem."""
    fmt = get_format(format_name)
    source_path = Path(path)
    if fmt.reader is None:
        raise AnnotationFormatError(source_path, f"format {fmt.name!r} can only be exported")
    if not source_path.exists():
        raise AnnotationFormatError(source_path, "not found")
    data: ExchangeSet = fmt.reader(source_path)
    frames = _Frames(store, Path(sources) if sources else None)
    known = {c.name.lower() for c in store.classes()}
    names_in_use = {o.class_name for f in data.frames for o in f.objects}
    new_classes = [c for c in data.classes if c.name.lower() not in known and c.name in names_in_use]
    listed = {c.name.lower() for c in data.classes}
    new_classes += [ClassInfo(n) for n in sorted(names_in_use) if n.lower() not in known | listed]
    plan = ImportPlan(fmt.name, source_path, [], new_classes, list(data.skipped))
    seen: dict[tuple[Path, int], str] = {}
    for frame in data.frames:
        source, record = frames.find(frame)
        key = (source, record.index if record else frame.index)
        if key in seen:
            raise AnnotationFormatError(source_path, f"{frame.name} and {seen[key]} annotate the same frame")
        seen[key] = frame.name
        if record is not None and not record.readable:
            raise AnnotationFormatError(source_path, f"{frame.name}: its frame is unreadable ({record.error})")
        size = (record.height, record.width) if record is not None else _size_of_new(source, frame.index)
        _validate(frame, size, source_path)
        _check_tag(store, frame, record, source_path)
        masks_before = calipers_before = 0
        if record is not None:
            masks_before = sum(1 for m in store.masks(record.id).values() if m.accepted)
            calipers_before = len(store.calipers(record.id))
        n_masks = sum(o.has_mask for o in frame.objects)
        n_calipers = sum(o.calipers is not None for o in frame.objects)
        plan.changes.append(FrameChange(
            frame.name, source, key[1], None if record is None else record.id,
            (masks_before, n_masks if n_masks else masks_before),
            (calipers_before, n_calipers if n_calipers else calipers_before),
            tuple(dict.fromkeys(o.class_name for o in frame.objects)),
            None if frame.tag is None else (_tag_name(store.tag(record.id) if record else None), frame.tag.value),
        ))
        plan.frames.append(frame)
    return plan


def apply_import(store: ProjectStore, plan: ImportPlan) -> list[int]:
    """Apply a plan as one user action (one transaction and one undo step over every frame it changes; new images
    added and classes created go with it but are not undone); the frames changed, in plan order. Nothing is written
    if any step fails."""
    changed: list[int] = []
    with store.action(f"Import {len(plan.changes)} frame(s)"):
        for info in plan.new_classes:
            store.add_class(info.name, info.colour if is_colour(info.colour) else None)
        class_id = {c.name.lower(): c.id for c in store.classes()}
        for change, frame in zip(plan.changes, plan.frames, strict=True):
            frame_id = change.frame_id
            if frame_id is None:
                records = store.add_frames([change.source])
                match = [r for r in records if r.index == change.index]
                if not match or not match[0].readable:
                    raise FrameReadError(change.source, f"frame {change.index} cannot be added")
                frame_id = match[0].id
            objects = [NewObject(class_id[o.class_name.lower()], None if o.mask is None else np.asarray(o.mask, bool),
                                 o.calipers, o.clicks, o.strokes) for o in frame.objects]
            store.put_objects(frame_id, objects, MaskProvenance.PAINTED)
            if frame.tag is not None:
                store.set_tag([frame_id], frame.tag)
            changed.append(frame_id)
    return changed


def _tag_name(tag: FrameTag | None) -> str:
    return "none" if tag is None else tag.value


def import_annotations(store: ProjectStore, format_name: str, path: str | Path,
                       sources: str | Path | None = None) -> tuple[ImportPlan, list[int]]:
    plan = plan_import(store, format_name, path, sources)
    return plan, apply_import(store, plan)
