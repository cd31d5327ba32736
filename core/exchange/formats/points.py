"""`points`: HCL-HRL point JSON, labels/<name>.json per frame with calipers (long-1, long-2, short-1, short-2 per
nodule; see core.io.point_json), then the axes derived from each accepted mask (labels "derived_..."; reading skips
them). SonoClick adds to each shape "description": its class name, and to the document "frameIndex" for frames of
multi-frame sources; readers of the plain format ignore both. Last come the objects' clicks, scribbles and boxes
(core.exchange.formats.sparse_shapes), in the group of their object's calipers (else in groups of their own). Calipers,
clicks, scribbles and boxes on import."""
from __future__ import annotations

from pathlib import Path

from core.errors import AnnotationFormatError
from core.exchange.formats.common import load_json, number, relative, resolve, write_json
from core.exchange.formats.sparse_shapes import SparseGroup, is_sparse_shape, sparse_shapes
from core.exchange.model import ClassInfo, ExchangeFrame, ExchangeObject, ExchangeSet
from core.exchange.registry import Format
from core.io.point_json import point_json_document, read_point_json

FOLDER = "labels"


def write(out: Path, data: ExchangeSet) -> tuple[int, int, list[str]]:
    folder = out / FOLDER
    frames = objects = 0
    for frame in data.frames:
        nodules = [o for o in frame.objects if o.calipers is not None]
        sparse = [o for o in frame.objects if o.has_sparse]
        if not nodules and not frame.derived and not sparse:
            continue
        class_of = {k if o.object_id is None else o.object_id: o.class_name for k, o in enumerate(frame.objects)}
        names = [o.class_name for o in nodules] + [class_of.get(oid, "") for oid, _ in frame.derived]
        doc = point_json_document([o.calipers for o in nodules], relative(frame.source, folder), frame.size,
                                  [axes for _, axes in frame.derived])
        for k, shape in enumerate(doc["shapes"]):
            shape["description"] = names[k // 4]
        groups = {id(o): k + 1 for k, o in enumerate(nodules)}
        after = len(nodules) + len(frame.derived)
        for k, obj in enumerate(o for o in sparse if id(o) not in groups):
            groups[id(obj)] = after + k + 1
        doc["shapes"] += [shape for obj in sparse for shape in sparse_shapes(obj, groups[id(obj)])]
        if frame.multi_frame:
            doc["frameIndex"] = frame.index
        write_json(folder / f"{frame.name}.json", doc, indent=2)
        frames, objects = frames + 1, objects + len({id(o) for o in nodules + sparse})
    return frames, objects, []


def read_file(path: Path) -> ExchangeFrame | None:
    """One point file as a frame; None when it has neither calipers nor sparse labels (nothing to import)."""
    nodules = read_point_json(path)
    doc = load_json(path)
    sparse = _sparse_groups(path, doc)
    if not nodules and not sparse:
        return None
    points = [s for s in doc["shapes"] if s.get("shape_type", "point") == "point" and not is_sparse_shape(s)]
    classes = [str(points[4 * k].get("description") or "nodule") for k in range(len(nodules))]
    image = doc.get("imagePath")
    if not isinstance(image, str) or not image:
        raise AnnotationFormatError(path, "no imagePath: the file does not say which image it belongs to")
    index = doc.get("frameIndex", 0)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise AnnotationFormatError(path, f"frameIndex must be a non-negative integer, got {index!r}")
    h, w = doc.get("imageHeight"), doc.get("imageWidth")
    size = (h, w) if isinstance(h, int) and isinstance(w, int) else None
    objects = []
    for k, (name, c) in enumerate(zip(classes, nodules, strict=True)):
        g = sparse.pop(points[4 * k].get("group_id"), SparseGroup())
        objects.append(ExchangeObject(name, None, c, clicks=tuple(g.clicks), strokes=tuple(g.strokes)))
    objects += [ExchangeObject(g.class_name or "nodule", None, None, clicks=tuple(g.clicks), strokes=tuple(g.strokes))
                for g in sparse.values()]
    return ExchangeFrame(path.stem, resolve(image, path.parent), index, size, tuple(objects))


def _sparse_groups(path: Path, doc: dict) -> dict[object, SparseGroup]:
    """group_id -> the clicks, scribbles and boxes of that group (shapes without a group share one)."""
    groups: dict[object, SparseGroup] = {}
    for k, shape in enumerate(doc["shapes"]):
        if is_sparse_shape(shape):
            pts = shape.get("points")
            if not isinstance(pts, list) or not pts or not all(isinstance(p, list) and len(p) == 2 for p in pts):
                raise AnnotationFormatError(path, f"shape {k}: 'points' must be a list of [x, y]")
            xy = [[number(v, path, f"shape {k}") for v in p] for p in pts]
            groups.setdefault(shape.get("group_id"), SparseGroup()).add(path, shape, k, xy)
    return groups


def json_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    folder = path / FOLDER if (path / FOLDER).is_dir() else path
    if not folder.is_dir():
        raise AnnotationFormatError(path, "neither a JSON file nor a folder")
    return sorted(folder.glob("*.json"))


def read(path: Path) -> ExchangeSet:
    result = ExchangeSet([])
    for file in json_files(path):
        frame = read_file(file)
        if frame is None:
            result.skipped.append(f"{file.name}: nothing to import (no point shapes)")
        else:
            result.frames.append(frame)
    names = list(dict.fromkeys(o.class_name for f in result.frames for o in f.objects))
    result.classes = [ClassInfo(n) for n in names]
    return result


FORMAT = Format("points", "HCL-HRL point JSON (calipers, the axes derived from masks, clicks, scribbles, boxes), one "
                "file per frame", "labels/<name>.json", write, read, carries_masks=False, carries_calipers=True,
                instances=True, measures=True, carries_sparse=True)
