"""A consistent snapshot of a project's labels for a training job in another process: the job never opens
the project database, so the GUI keeps writing while it trains."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.annotation.points import PointKind
from core.annotation.tags import FrameTag
from core.errors import InputError
from core.io.atomic_write import write_bytes_atomic
from core.io.mask_files import read_mask, write_mask
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
    no_nodule: bool = False  # tagged "no nodule": a negative, background everywhere
    nodule_tag: bool = False  # tagged "nodule present" with nothing drawn: a frame-level label only

    @property
    def has_mask(self) -> bool:
        return self.mask_file is not None


def write_snapshot(store: ProjectStore, out_dir: str | Path) -> Path:
    """Every labelled frame (calipers, clicks, an accepted mask, a "no nodule" or "nodule present" tag) with its
    labels as they are now. Draft masks (not yet accepted) are left out: they must not train as full supervision."""
    out = Path(out_dir)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    statuses = store.frame_statuses()
    tags = store.effective_tags()
    frames = []
    for record in store.frames():
        if not record.readable:
            continue
        entry = LabelledFrame(record.id, str(record.source), record.index,
                              no_nodule=tags.get(record.id) == FrameTag.NO_NODULE)
        entry.calipers = [c.as_array().tolist() for _, c in sorted(store.calipers(record.id).items())]
        for point in store.points(record.id).values():
            if point.kind == PointKind.FOREGROUND:
                entry.positives.append([point.x, point.y])
            elif point.kind == PointKind.BACKGROUND:
                entry.negatives.append([point.x, point.y])
        if statuses.get(record.id) == FrameStatus.MASK_ACCEPTED:
            mask = store.mask(record.id, accepted_only=True)
            if mask is not None and mask.any():
                entry.mask_file = f"masks/{record.id}.png"
                write_mask(out / entry.mask_file, mask)
        drawn = bool(entry.calipers or entry.positives or entry.has_mask)
        entry.nodule_tag = not drawn and tags.get(record.id) == FrameTag.NODULE
        if drawn or entry.no_nodule or entry.nodule_tag:
            frames.append(entry)
    path = out / SNAPSHOT_FILE
    write_bytes_atomic(path, json.dumps({"frames": [asdict(f) for f in frames]}, indent=1).encode())
    return path


def has_nodule_labels(entries: list[LabelledFrame]) -> bool:
    """Whether any frame says where a nodule is: negatives alone teach nothing to find."""
    return any(not entry.no_nodule for entry in entries)


def read_snapshot(path: str | Path) -> list[LabelledFrame]:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
        return [LabelledFrame(**entry) for entry in doc["frames"]]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(path, f"not a SonoClick training snapshot ({exc})") from exc


def snapshot_mask(snapshot_path: str | Path, frame: LabelledFrame) -> np.ndarray | None:
    if frame.mask_file is None:
        return None
    return read_mask(Path(snapshot_path).parent / frame.mask_file)
