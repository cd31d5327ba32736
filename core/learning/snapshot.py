"""A consistent snapshot of a project's labels for a training job in another process: the job never opens
the project database, so the GUI keeps writing while it trains. The frame model is a nodule model: only objects
of the default class (*nodule*) train it; a thyroid gland outlined on the same frame is not a nodule. The accepted
masks of thyroid-gland objects (a class named as in core.project.classes.GLAND_CLASS_NAMES) go into the
snapshot apart, as each frame's gland mask: they train the region prior's gland head, never the nodule map."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.annotation.points import PointKind, calipers_from_points
from core.annotation.strokes import Stroke, StrokeKind
from core.annotation.tags import FrameTag
from core.errors import InputError
from core.io.atomic_write import write_bytes_atomic
from core.io.mask_files import read_mask, write_mask
from core.project.classes import DEFAULT_CLASS_ID, is_gland_class_name
from core.project.records import FrameStatus
from core.project.store import ProjectStore

SNAPSHOT_FILE = "snapshot.json"


@dataclass
class LabelledFrame:
    frame_id: int
    source: str  # absolute path of the frame's file
    index: int  # frame index within the file (cine, video)
    calipers: list[list[list[float]]] = field(default_factory=list)  # per object: 4 x (x, y)
    positives: list[list[float]] = field(default_factory=list)
    negatives: list[list[float]] = field(default_factory=list)
    mask_file: str | None = None  # accepted mask (union of accepted objects; drafts never), relative to the folder
    strokes: list[dict] = field(default_factory=list)  # scribbles and boxes, see stroke_to_json
    no_nodule: bool = False  # tagged "no nodule": a negative, background everywhere
    nodule_tag: bool = False  # tagged "nodule present" with no nodule drawn: a frame-level label only
    gland_mask_file: str | None = None  # union of the accepted thyroid-gland masks, relative to the folder

    @property
    def has_mask(self) -> bool:
        return self.mask_file is not None

    @property
    def has_nodule_labels(self) -> bool:
        """False for a frame in the snapshot for its gland mask only: it says nothing about nodules."""
        return bool(self.calipers or self.positives or self.strokes or self.has_mask or self.no_nodule
                    or self.nodule_tag)

    def drawn_strokes(self) -> list[Stroke]:
        return [stroke_from_json(s) for s in self.strokes]


def stroke_to_json(stroke: Stroke) -> dict:
    return {"kind": stroke.kind.value, "points": [list(p) for p in stroke.points], "foreground": stroke.foreground,
            "width": stroke.width, "object_id": stroke.object_id}


def stroke_from_json(doc: dict) -> Stroke:
    """ValueError or KeyError on a malformed entry (read_snapshot names the file)."""
    return Stroke(StrokeKind(doc["kind"]), tuple((float(x), float(y)) for x, y in doc["points"]),
                  bool(doc["foreground"]), float(doc["width"]), int(doc["object_id"]))


def write_snapshot(store: ProjectStore, out_dir: str | Path) -> Path:
    """Every labelled frame (calipers, clicks, scribbles, boxes, an accepted mask, a "no nodule" or "nodule
    present" tag) with its labels as they are now. Draft masks (not yet accepted) are left out: they must not
    train as full supervision."""
    out = Path(out_dir)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    statuses = store.frame_statuses()
    tags = store.tags()  # the user's own: a NO_NODULE frame holds no objects, an accepted mask is not a tag here
    gland_classes = {c.id for c in store.classes() if is_gland_class_name(c.name)}
    frames = []
    for record in store.frames():
        if not record.readable:
            continue
        entry = LabelledFrame(record.id, str(record.source), record.index,
                              no_nodule=tags.get(record.id) == FrameTag.NO_NODULE)
        classes = store.object_classes(record.id)
        nodules = {oid for oid, cid in classes.items() if cid == DEFAULT_CLASS_ID}
        points = list(store.points(record.id).values())
        entry.calipers = [c.as_array().tolist() for oid, c in sorted(calipers_from_points(points).items())
                          if oid in nodules]
        for point in points:
            if point.object_id not in nodules:
                continue
            if point.kind == PointKind.FOREGROUND:
                entry.positives.append([point.x, point.y])
            elif point.kind == PointKind.BACKGROUND:
                entry.negatives.append([point.x, point.y])
        entry.strokes = [stroke_to_json(s) for _, s in sorted(store.strokes(record.id).items())
                         if s.object_id in nodules]
        if statuses.get(record.id) == FrameStatus.MASK_ACCEPTED:
            mask = _accepted_union(store, record.id, nodules)
            if mask is not None and mask.any():
                entry.mask_file = f"masks/{record.id}.png"
                write_mask(out / entry.mask_file, mask)
        glands = {oid for oid, cid in classes.items() if cid in gland_classes}
        gland = _accepted_union(store, record.id, glands) if glands else None
        if gland is not None and gland.any():
            entry.gland_mask_file = f"masks/{record.id}_gland.png"
            write_mask(out / entry.gland_mask_file, gland)
        drawn = bool(entry.calipers or entry.positives or entry.strokes or entry.has_mask)
        entry.nodule_tag = not drawn and tags.get(record.id) == FrameTag.NODULE
        if drawn or entry.no_nodule or entry.nodule_tag or entry.gland_mask_file:
            frames.append(entry)
    path = out / SNAPSHOT_FILE
    write_bytes_atomic(path, json.dumps({"frames": [_as_json(f) for f in frames]}, indent=1).encode())
    return path


def _as_json(frame: LabelledFrame) -> dict:
    """The frame's entry; `strokes`, the tag flags and `gland_mask_file` only when set, so a project without
    them writes the format older readers know."""
    doc = asdict(frame)
    for key in ("strokes", "no_nodule", "nodule_tag", "gland_mask_file"):
        if not doc[key]:
            del doc[key]
    return doc


def has_nodule_labels(entries: list[LabelledFrame]) -> bool:
    """Whether any frame says where a nodule is: negatives alone, or gland masks alone, teach nothing to find."""
    return any(entry.has_nodule_labels and not entry.no_nodule for entry in entries)


def _accepted_union(store: ProjectStore, frame_id: int, objects: set[int]) -> np.ndarray | None:
    """The union of the accepted masks of these objects of the frame, or None."""
    union = None
    for object_id in sorted(objects & set(store.masks(frame_id))):
        mask = store.mask(frame_id, object_id, accepted_only=True)
        if mask is not None:
            union = mask if union is None else union | mask
    return union


def read_snapshot(path: str | Path) -> list[LabelledFrame]:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
        frames = [LabelledFrame(**entry) for entry in doc["frames"]]
        for frame in frames:
            frame.drawn_strokes()  # a damaged stroke fails here, naming the file, not later in training
        return frames
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(path, f"not a SonoClick training snapshot ({exc})") from exc


def snapshot_mask(snapshot_path: str | Path, frame: LabelledFrame) -> np.ndarray | None:
    if frame.mask_file is None:
        return None
    return read_mask(Path(snapshot_path).parent / frame.mask_file)


def snapshot_gland_mask(snapshot_path: str | Path, frame: LabelledFrame) -> np.ndarray | None:
    if frame.gland_mask_file is None:
        return None
    return read_mask(Path(snapshot_path).parent / frame.gland_mask_file)
