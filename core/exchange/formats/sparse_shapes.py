"""Sparse labels (clicks, scribbles, boxes) as labelme shapes, for the formats that carry them (labelme, points).

A click is a `point` shape, a scribble a `linestrip`, a box a `rectangle` (two opposite corners). The label says
which side of the object the shape marks: "nodule" or "background" (a box is always "nodule"); the description
holds the object's class name; a scribble's width in pixels is in "stroke_width" (labelme keeps unknown keys).
Shapes of one object share its group_id. Point shapes with any other label are caliper ends, not clicks; a
linestrip or rectangle made in labelme with another label is a nodule-side stroke of that class."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.annotation.points import Point, PointKind
from core.annotation.strokes import Stroke, StrokeKind
from core.errors import AnnotationFormatError
from core.exchange.formats.common import number
from core.exchange.model import ExchangeObject
from core.io.point_json import CLICK_LABELS

SIDES = CLICK_LABELS
NODULE, BACKGROUND = SIDES
DEFAULT_WIDTH = 5.0


def _shape(label: str, points: list, shape_type: str, group: int, class_name: str) -> dict:
    return {"label": label, "points": points, "group_id": group, "description": class_name,
            "shape_type": shape_type, "flags": {}, "mask": None}


def sparse_shapes(obj: ExchangeObject, group: int) -> list[dict]:
    """The object's clicks, scribbles and boxes as labelme shapes of group `group`."""
    shapes = [_shape(NODULE if p.kind is PointKind.FOREGROUND else BACKGROUND, [[p.x, p.y]], "point", group,
                     obj.class_name) for p in obj.clicks]
    for s in obj.strokes:
        points = [list(xy) for xy in s.points]
        if s.kind is StrokeKind.BOX:
            shapes.append(_shape(NODULE, points, "rectangle", group, obj.class_name))
        else:
            shape = _shape(NODULE if s.foreground else BACKGROUND, points, "linestrip", group, obj.class_name)
            shapes.append({**shape, "stroke_width": s.width})
    return shapes


def is_sparse_shape(shape: dict) -> bool:
    kind = shape.get("shape_type", "point")
    return kind in ("linestrip", "rectangle") or (kind == "point" and shape.get("label") in SIDES)


@dataclass
class SparseGroup:
    """The clicks and strokes of one object as read, and its class (from the shapes' descriptions)."""

    class_name: str | None = None
    clicks: list[Point] = field(default_factory=list)
    strokes: list[Stroke] = field(default_factory=list)

    def add(self, path: Path, shape: dict, k: int, xy: np.ndarray) -> None:
        """Add one sparse shape (is_sparse_shape) whose vertices `xy` were read and checked by the caller."""
        kind, label = shape.get("shape_type", "point"), str(shape.get("label", ""))
        named = str(shape.get("description") or "") or (label if label not in SIDES else "")
        self.class_name = self.class_name or named or None
        vertices = tuple((float(x), float(y)) for x, y in xy)
        try:
            if kind == "point":
                side = PointKind.FOREGROUND if label == NODULE else PointKind.BACKGROUND
                self.clicks.append(Point(*vertices[0], side))
            elif kind == "rectangle":
                if label == BACKGROUND:
                    raise ValueError("a box encloses its object: it cannot be labelled 'background'")
                self.strokes.append(Stroke(StrokeKind.BOX, vertices))
            else:
                width = shape.get("stroke_width", DEFAULT_WIDTH)
                width = number(width, path, f"shape {k}: stroke_width")
                self.strokes.append(Stroke(StrokeKind.SCRIBBLE, vertices, label != BACKGROUND, width))
        except ValueError as exc:
            raise AnnotationFormatError(path, f"shape {k}: {exc}") from exc

    def __bool__(self) -> bool:
        return bool(self.clicks or self.strokes)
