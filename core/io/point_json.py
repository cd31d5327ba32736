"""HCL-HRL's labelme-style point JSON: every four consecutive point shapes are one nodule, in the order
long-1, long-2, short-1, short-2, with x = column and y = row in original-image pixels.

SonoClick also writes the axes it derived from a nodule's mask (core.annotation.mask_axes), after all caliper
sets: four point shapes per nodule labelled derived_long1, derived_long2, derived_short1, derived_short2, in object
order, group_id continuing after the caliper sets'. They are measurements, not annotations: reading skips point
shapes whose label starts with "derived_" (a plain HCL-HRL reader that counts every point shape would take them
for more nodules, which is why they are labelled and come last).

SonoClick's sparse labels go last too: clicks are point shapes labelled "nodule" or "background" (CLICK_LABELS),
which reading skips as well, like the other shape types (scribbles, boxes: core.exchange.sparse_shapes).

Reading looks only at `shapes` (point shapes; other shape types, clicks and derived points are skipped) and at
imageHeight/imageWidth for the bounds check; other labels and every other field are ignored. Writing produces a
complete labelme document.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.annotation.bounds import check_inside
from core.annotation.points import CALIPER_ORDER, Calipers
from core.errors import AnnotationFormatError
from core.io.atomic_write import write_bytes_atomic
from core.io.limits import MAX_JSON_SHAPES, MAX_NODULES_PER_FRAME, load_json_bounded

LABELME_VERSION = "5.4.1"
DERIVED_PREFIX = "derived_"  # label prefix of the axes derived from a mask
CLICK_LABELS = ("nodule", "background")  # point shapes so labelled are clicks, not caliper ends


def _is_derived_or_click(shape: dict) -> bool:
    label = shape.get("label")
    return isinstance(label, str) and (label.startswith(DERIVED_PREFIX) or label in CLICK_LABELS)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _point_of(path: Path, k: int, shape: Any) -> tuple[float, float]:
    points = shape.get("points")
    if not isinstance(points, list) or not points or not isinstance(points[0], list | tuple) or len(points[0]) != 2:
        raise AnnotationFormatError(path, f"shape {k}: 'points' must be [[x, y]]")
    x, y = (_number(v) for v in points[0])
    if x is None or y is None:
        raise AnnotationFormatError(path, f"shape {k}: point {points[0]!r} is not a pair of finite numbers")
    return x, y


def _declared_size(path: Path, doc: dict) -> tuple[int, int] | None:
    h, w = doc.get("imageHeight"), doc.get("imageWidth")
    if h is None or w is None:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (h, w)):
        raise AnnotationFormatError(path, f"imageHeight/imageWidth must be positive integers, got {h!r}/{w!r}")
    return h, w


def read_point_json(path: str | Path, image_size: tuple[int, int] | None = None) -> list[Calipers]:
    """The nodules of a point JSON, in file order. `image_size` = (height, width) of the frame the points belong
    to; when it is given or the file declares imageHeight/imageWidth, every point must lie on the image (and the
    two sizes must agree). Any problem raises AnnotationFormatError naming the file."""
    p = Path(path)
    doc = load_json_bounded(p)
    if not isinstance(doc, dict) or not isinstance(doc.get("shapes"), list):
        raise AnnotationFormatError(p, "not a labelme point file (no 'shapes' list)")
    if len(doc["shapes"]) > MAX_JSON_SHAPES:
        raise AnnotationFormatError(p, f"{len(doc['shapes'])} shapes is more than a point file may hold "
                                       f"({MAX_JSON_SHAPES}, {MAX_NODULES_PER_FRAME} nodules)")
    coords = []
    for k, shape in enumerate(doc["shapes"]):
        if not isinstance(shape, dict):
            raise AnnotationFormatError(p, f"shape {k} is not an object")
        if shape.get("shape_type", "point") == "point" and not _is_derived_or_click(shape):
            coords.append(_point_of(p, k, shape))
    if len(coords) % 4:
        raise AnnotationFormatError(
            p, f"{len(coords)} points is not a multiple of 4 (each nodule is long-1, long-2, short-1, short-2)"
        )
    declared = _declared_size(p, doc)
    if image_size is not None and declared is not None and tuple(image_size) != declared:
        raise AnnotationFormatError(
            p, f"labels are for a {declared[1]}x{declared[0]} image but the frame is {image_size[1]}x{image_size[0]}"
        )
    size = image_size or declared
    if size is not None:
        check_inside(p, coords, width=size[1], height=size[0])
    return [Calipers.from_array(coords[i : i + 4]) for i in range(0, len(coords), 4)]


def point_json_document(
    calipers: Sequence[Calipers],
    image_path: str,
    image_size: tuple[int, int],
    derived: Sequence[Calipers] = (),
) -> dict:
    """The labelme document for `calipers` (nodule k gets group_id k + 1) and then the `derived` axes (labels
    prefixed "derived_", group ids continuing); image_size = (height, width)."""
    shapes = []
    sets = [("", nodule) for nodule in calipers] + [(DERIVED_PREFIX, axes) for axes in derived]
    for k, (prefix, nodule) in enumerate(sets):
        for (x, y), kind in zip(nodule.as_array().tolist(), CALIPER_ORDER, strict=True):
            shapes.append({
                "label": prefix + kind.value, "points": [[x, y]], "group_id": k + 1, "shape_type": "point",
                "flags": {},
            })
    return {
        "version": LABELME_VERSION,
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": None,
        "imageHeight": int(image_size[0]),
        "imageWidth": int(image_size[1]),
    }


def write_point_json(
    path: str | Path,
    calipers: Sequence[Calipers],
    image_path: str,
    image_size: tuple[int, int],
    derived: Sequence[Calipers] = (),
) -> None:
    """Write the nodules (and the axes derived from their masks) as a labelme point file (atomically)."""
    doc = point_json_document(calipers, image_path, image_size, derived)
    write_bytes_atomic(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
