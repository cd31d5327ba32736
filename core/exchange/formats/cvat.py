"""`cvat`: CVAT for images 1.1 XML, cvat.xml. One <label> per class, one <image> per frame (name: the image
path relative to the export folder; SonoClick adds frame="k" for frames of multi-frame sources). Each object is
a group (group_id): its mask as <polygon> elements, or a <mask> (run lengths over its box) where polygons would
not redraw exactly the same pixels, and its calipers as one <points> element of four points (long1, long2,
short1, short2)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from core.annotation.points import Calipers
from core.errors import AnnotationFormatError
from core.exchange.formats.common import in_parallel, relative, resolve
from core.exchange.model import ClassInfo, ExchangeFrame, ExchangeObject, ExchangeSet
from core.exchange.registry import Format
from core.exchange.shapes import cvat_rle, exact_polygons, fill_polygons, from_cvat_rle

FILE = "cvat.xml"
MAX_BYTES = 512 * 1024 * 1024


def _xy_text(xy: np.ndarray) -> str:
    return ";".join(f"{float(x)!r},{float(y)!r}" for x, y in xy)


def _common(label: str, group: int) -> dict[str, str]:
    return {"label": label, "source": "manual", "occluded": "0", "z_order": "0", "group_id": str(group)}


def _shapes(obj: ExchangeObject, group: int) -> list[tuple[str, dict[str, str]]]:
    """(tag, attributes) of the elements for one object."""
    shapes = []
    mask = obj.mask
    if mask is not None and mask.any():
        polygons = exact_polygons(mask)
        if polygons is not None:
            shapes += [("polygon", {**_common(obj.class_name, group), "points": _xy_text(p)}) for p in polygons]
        else:
            rle, (left, top, width, height) = cvat_rle(mask)
            shapes.append(("mask", {**_common(obj.class_name, group), "rle": rle, "left": str(left),
                                    "top": str(top), "width": str(width), "height": str(height)}))
    if obj.calipers is not None:
        shapes.append(("points", {**_common(obj.class_name, group), "points": _xy_text(obj.calipers.as_array())}))
    return shapes


def write(out: Path, data: ExchangeSet) -> tuple[int, int, list[str]]:
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    labels = ET.SubElement(ET.SubElement(ET.SubElement(root, "meta"), "task"), "labels")
    for c in data.classes:
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = c.name
        ET.SubElement(label, "color").text = c.colour
        ET.SubElement(label, "type").text = "any"
        ET.SubElement(label, "attributes")
    objects = 0
    per_frame = in_parallel(lambda f: [s for k, obj in enumerate(f.objects) for s in _shapes(obj, k + 1)],
                            data.frames)
    for image_id, (frame, shapes) in enumerate(zip(data.frames, per_frame, strict=True)):
        attrs = {"id": str(image_id), "name": relative(frame.source, out), "width": str(frame.size[1]),
                 "height": str(frame.size[0])}
        if frame.multi_frame:
            attrs["frame"] = str(frame.index)
        image = ET.SubElement(root, "image", attrs)
        for tag, shape in shapes:
            ET.SubElement(image, tag, shape)
        objects += len(frame.objects)
    ET.indent(root)
    ET.ElementTree(root).write(out / FILE, encoding="utf-8", xml_declaration=True)
    return len(data.frames), objects, []


def _points(file: Path, element: ET.Element) -> np.ndarray:
    try:
        pairs = [p.split(",") for p in element.get("points", "").split(";") if p.strip()]
        xy = np.array([[float(x), float(y)] for x, y in pairs])
    except ValueError as exc:
        raise AnnotationFormatError(file, f"<{element.tag}>: bad points {element.get('points')!r}") from exc
    if xy.size == 0 or not np.isfinite(xy).all():
        raise AnnotationFormatError(file, f"<{element.tag}>: bad points {element.get('points')!r}")
    return xy


def _int(file: Path, element: ET.Element, name: str) -> int:
    try:
        return int(element.get(name, ""))
    except ValueError as exc:
        raise AnnotationFormatError(file, f"<{element.tag}>: {name} must be an integer") from exc


def _read_image(file: Path, image: ET.Element) -> ExchangeFrame | None:
    h, w = _int(file, image, "height"), _int(file, image, "width")
    if h <= 0 or w <= 0:
        raise AnnotationFormatError(file, f"image {image.get('name')!r}: bad size")
    groups: dict[object, dict] = {}
    for k, shape in enumerate(image):
        group = shape.get("group_id")
        key = ("group", group) if group not in (None, "", "0") else ("shape", k)
        entry = groups.setdefault(key, {"label": shape.get("label"), "mask": None, "calipers": None})
        if shape.tag in ("polygon", "mask"):
            if shape.tag == "polygon":
                xy = _points(file, shape)
                if len(xy) < 3 or (xy < -0.5).any() or (xy[:, 0] > w - 0.5).any() or (xy[:, 1] > h - 0.5).any():
                    raise AnnotationFormatError(file, f"image {image.get('name')!r}: polygon off the image")
                mask = fill_polygons([xy], (h, w))
            else:
                box = tuple(_int(file, shape, n) for n in ("left", "top", "width", "height"))
                try:
                    mask = from_cvat_rle(shape.get("rle", ""), box, (h, w))
                except ValueError as exc:
                    raise AnnotationFormatError(file, f"image {image.get('name')!r}: bad mask ({exc})") from exc
            entry["mask"] = mask if entry["mask"] is None else entry["mask"] | mask
        elif shape.tag == "points":
            xy = _points(file, shape)
            if len(xy) != 4:
                raise AnnotationFormatError(file, f"image {image.get('name')!r}: caliper points come in fours")
            if (xy < -0.5).any() or (xy[:, 0] > w - 0.5).any() or (xy[:, 1] > h - 0.5).any():
                raise AnnotationFormatError(file, f"image {image.get('name')!r}: a caliper point is off the image")
            entry["calipers"] = Calipers.from_array(xy)
        else:
            continue  # boxes, lines, tags: nothing SonoClick keeps
    objects = tuple(ExchangeObject(str(e["label"] or "nodule"), e["mask"], e["calipers"]) for e in groups.values()
                    if e["mask"] is not None or e["calipers"] is not None)
    if not objects:
        return None
    index = _int(file, image, "frame") if image.get("frame") is not None else 0
    name = image.get("name", "")
    return ExchangeFrame(Path(name).stem, resolve(name, file.parent), index, (h, w), objects)


def read(path: Path) -> ExchangeSet:
    file = path / FILE if path.is_dir() else path
    try:
        if file.stat().st_size > MAX_BYTES:
            raise AnnotationFormatError(file, f"file is larger than {MAX_BYTES // 2**20} MB")
        root = ET.parse(file).getroot()
    except OSError as exc:
        raise AnnotationFormatError(file, f"cannot read file ({exc.strerror or exc})") from exc
    except ET.ParseError as exc:
        raise AnnotationFormatError(file, f"malformed XML ({exc})") from exc
    if root.tag != "annotations":
        raise AnnotationFormatError(file, "not a CVAT for images file (no <annotations> root)")
    classes = [ClassInfo(label.findtext("name", ""), label.findtext("color") or "#f5c400")
               for label in root.iterfind("./meta/task/labels/label")]
    result = ExchangeSet([c for c in classes if c.name])
    for image in root.iterfind("image"):
        frame = _read_image(file, image)
        if frame is None:
            result.skipped.append(f"{image.get('name')}: nothing to import")
        else:
            result.frames.append(frame)
    return result


FORMAT = Format("cvat", "CVAT for images 1.1 XML (polygons or masks, calipers as points)", FILE,
                write, read, carries_calipers=True, instances=True)
