"""`labelme`: one labelme JSON per frame, labelme/<name>.json. Each object is one group (group_id = its
number): its mask as polygon shapes labelled with the class name (a "mask" shape, cropped PNG, where polygons
would not redraw exactly the same pixels, e.g. around holes) and its caliper ends as four point shapes labelled
long1, long2, short1, short2 (description: the class name), its clicks, scribbles and boxes as `point`, `linestrip`
and `rectangle` shapes labelled nodule/background (core.exchange.formats.sparse_shapes). "frameIndex" marks frames of
multi-frame sources. Reading also takes files made in labelme: shapes without a group are objects of their own
(point shapes in fours, as HCL-HRL writes them), except clicks, scribbles and boxes, which together make one."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.annotation.points import CALIPER_ORDER, Calipers
from core.errors import AnnotationFormatError
from core.exchange.formats.common import in_parallel, load_json, number, relative, resolve, write_json
from core.exchange.formats.sparse_shapes import SparseGroup, is_sparse_shape, sparse_shapes
from core.exchange.model import ClassInfo, ExchangeFrame, ExchangeObject, ExchangeSet
from core.exchange.registry import Format
from core.exchange.shapes import exact_polygons, fill_polygons, from_labelme_mask, labelme_mask
from core.io.point_json import LABELME_VERSION

FOLDER = "labelme"


def _shape(label: str, points: list, shape_type: str, group: int, description: str = "") -> dict:
    return {"label": label, "points": points, "group_id": group, "description": description,
            "shape_type": shape_type, "flags": {}, "mask": None}


def _object_shapes(obj: ExchangeObject, group: int) -> list[dict]:
    shapes = []
    mask = obj.mask
    if mask is not None and mask.any():
        polygons = exact_polygons(mask)
        if polygons is not None:
            shapes += [_shape(obj.class_name, p.astype(float).tolist(), "polygon", group) for p in polygons]
        else:
            corners, png = labelme_mask(mask)
            shapes.append({**_shape(obj.class_name, corners, "mask", group), "mask": png})
    if obj.calipers is not None:
        for (x, y), kind in zip(obj.calipers.as_array().tolist(), CALIPER_ORDER, strict=True):
            shapes.append(_shape(kind.value, [[x, y]], "point", group, obj.class_name))
    return shapes + sparse_shapes(obj, group)


def _write_frame(folder: Path, frame: ExchangeFrame) -> int:
    shapes = [s for k, obj in enumerate(frame.objects) for s in _object_shapes(obj, k + 1)]
    doc = {"version": LABELME_VERSION, "flags": {}, "shapes": shapes, "imagePath": relative(frame.source, folder),
           "imageData": None, "imageHeight": frame.size[0], "imageWidth": frame.size[1]}
    if frame.multi_frame:
        doc["frameIndex"] = frame.index
    write_json(folder / f"{frame.name}.json", doc)  # compact: indenting runs the pure-Python encoder, 3x slower
    return len(frame.objects)


def write(out: Path, data: ExchangeSet) -> tuple[int, int, list[str]]:
    folder = out / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return len(data.frames), sum(in_parallel(lambda frame: _write_frame(folder, frame), data.frames)), []


def _xy(path: Path, shape: dict, k: int) -> np.ndarray:
    pts = shape.get("points")
    if not isinstance(pts, list) or not pts or not all(isinstance(p, list) and len(p) == 2 for p in pts):
        raise AnnotationFormatError(path, f"shape {k}: 'points' must be a list of [x, y]")
    return np.array([[number(v, path, f"shape {k}") for v in p] for p in pts])


class _Group:
    def __init__(self) -> None:
        self.class_name: str | None = None
        self.mask: np.ndarray | None = None
        self.ends: dict[str, tuple[float, float]] = {}
        self.sparse = SparseGroup()

    def add_mask(self, mask: np.ndarray, label: str) -> None:
        self.mask = mask if self.mask is None else self.mask | mask
        self.class_name = self.class_name or label


def _inside(path: Path, xy: np.ndarray, size: tuple[int, int], k: int) -> None:
    h, w = size
    if (xy < -0.5).any() or (xy[:, 0] > w - 0.5).any() or (xy[:, 1] > h - 0.5).any():
        raise AnnotationFormatError(path, f"shape {k}: a point lies outside the {w}x{h} image")


def read_file(path: Path) -> ExchangeFrame | None:
    doc = load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("shapes"), list):
        raise AnnotationFormatError(path, "not a labelme file (no 'shapes' list)")
    h, w = doc.get("imageHeight"), doc.get("imageWidth")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (h, w)):
        raise AnnotationFormatError(path, "imageHeight and imageWidth must be positive integers")
    image = doc.get("imagePath")
    if not isinstance(image, str) or not image:
        raise AnnotationFormatError(path, "no imagePath: the file does not say which image it belongs to")
    groups: dict[object, _Group] = {}
    loose_points: list[tuple[np.ndarray, str]] = []
    for k, shape in enumerate(doc["shapes"]):
        if not isinstance(shape, dict):
            raise AnnotationFormatError(path, f"shape {k} is not an object")
        kind, label, group = shape.get("shape_type", "polygon"), str(shape.get("label", "")), shape.get("group_id")
        if group is not None and (isinstance(group, bool) or not isinstance(group, int | str)):
            raise AnnotationFormatError(path, f"shape {k}: group_id must be a number, got {group!r}")
        key = ("group", group) if group is not None else ("shape", k)
        xy = _xy(path, shape, k)
        _inside(path, xy, (h, w), k)
        if is_sparse_shape(shape):
            groups.setdefault(key if group is not None else ("sparse", None), _Group()).sparse.add(path, shape, k, xy)
        elif kind == "polygon":
            if len(xy) < 3:
                raise AnnotationFormatError(path, f"shape {k}: a polygon needs at least three points")
            groups.setdefault(key, _Group()).add_mask(fill_polygons([xy], (h, w)), label)
        elif kind == "mask":
            try:
                mask = from_labelme_mask(shape.get("points"), str(shape.get("mask")), (h, w))
            except (ValueError, TypeError) as exc:
                raise AnnotationFormatError(path, f"shape {k}: bad mask ({exc})") from exc
            groups.setdefault(key, _Group()).add_mask(mask, label)
        elif kind == "point":
            if group is None:
                loose_points.append((xy[0], str(shape.get("description") or "")))
            else:
                g = groups.setdefault(key, _Group())
                if label not in {c.value for c in CALIPER_ORDER} or label in g.ends:
                    raise AnnotationFormatError(path, f"shape {k}: point {label!r} is not a new caliper end")
                g.ends[label] = (float(xy[0][0]), float(xy[0][1]))
                g.class_name = g.class_name or str(shape.get("description") or "") or None
    objects = []
    for key, g in groups.items():
        if g.ends and len(g.ends) != 4:
            raise AnnotationFormatError(path, f"group {key[1]}: {len(g.ends)} caliper ends (needs all four)")
        calipers = Calipers(*(g.ends[c.value] for c in CALIPER_ORDER)) if g.ends else None
        if g.mask is not None or calipers is not None or g.sparse:
            objects.append(ExchangeObject(g.class_name or g.sparse.class_name or "nodule", g.mask, calipers,
                                          clicks=tuple(g.sparse.clicks), strokes=tuple(g.sparse.strokes)))
    if len(loose_points) % 4:
        raise AnnotationFormatError(path, f"{len(loose_points)} ungrouped points is not a multiple of 4")
    for i in range(0, len(loose_points), 4):
        xy = np.array([p for p, _ in loose_points[i : i + 4]])
        objects.append(ExchangeObject(loose_points[i][1] or "nodule", None, Calipers.from_array(xy)))
    if not objects:
        return None
    index = doc.get("frameIndex", 0)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise AnnotationFormatError(path, f"frameIndex must be a non-negative integer, got {index!r}")
    return ExchangeFrame(path.stem, resolve(image, path.parent), index, (h, w), tuple(objects))


def read(path: Path) -> ExchangeSet:
    files = [path] if path.is_file() else sorted((path / FOLDER if (path / FOLDER).is_dir() else path).glob("*.json"))
    result = ExchangeSet([])
    for file in files:
        frame = read_file(file)
        if frame is None:
            result.skipped.append(f"{file.name}: nothing to import")
        else:
            result.frames.append(frame)
    result.classes = [ClassInfo(n) for n in dict.fromkeys(o.class_name for f in result.frames for o in f.objects)]
    return result


FORMAT = Format("labelme", "labelme JSON (polygons, caliper points, clicks, scribbles, boxes), one file per frame",
                "labelme/<name>.json", write, read, carries_calipers=True, instances=True, carries_sparse=True)
