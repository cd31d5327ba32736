"""`coco`: COCO instance segmentation, coco.json. One category per project class (id = its position + 1), one
image entry per frame with file_name relative to the export folder (and "frame_index" for frames of multi-frame
sources), one annotation per object: segmentation as compressed RLE (pycocotools), caliper ends as the
category's four keypoints (long1, long2, short1, short2; visibility 2, or all zero without calipers). Reading
accepts polygon, uncompressed and compressed RLE segmentations."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from core.annotation.points import CALIPER_ORDER, Calipers
from core.errors import AnnotationFormatError
from core.exchange.formats.common import in_parallel, load_json, number, positive_int, relative, resolve, write_json
from core.exchange.model import ClassInfo, ExchangeFrame, ExchangeObject, ExchangeSet
from core.exchange.registry import Format

FILE = "coco.json"
KEYPOINTS = [k.value for k in CALIPER_ORDER]


def _annotation(obj: ExchangeObject) -> dict[str, Any]:
    """One object's annotation, without its ids (filled in by the caller)."""
    ann: dict[str, Any] = {"iscrowd": 0}
    mask = obj.mask
    if mask is not None:
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        ann["segmentation"] = {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
        ann["area"] = int(mask_utils.area(rle))
        ann["bbox"] = [float(v) for v in mask_utils.toBbox(rle)]
    else:
        xy = obj.calipers.as_array()
        ann["segmentation"] = []
        ann["area"] = 0
        ann["bbox"] = [float(xy[:, 0].min()), float(xy[:, 1].min()), float(np.ptp(xy[:, 0])), float(np.ptp(xy[:, 1]))]
    if obj.calipers is not None:
        ann["keypoints"] = [v for x, y in obj.calipers.as_array().tolist() for v in (x, y, 2)]
        ann["num_keypoints"] = 4
    else:
        ann["keypoints"], ann["num_keypoints"] = [0] * 12, 0
    return ann


def write(out: Path, data: ExchangeSet) -> tuple[int, int, list[str]]:
    category = {c.name: k + 1 for k, c in enumerate(data.classes)}
    images, annotations = [], []
    per_frame = in_parallel(lambda frame: [_annotation(obj) for obj in frame.objects], data.frames)
    for image_id, (frame, anns) in enumerate(zip(data.frames, per_frame, strict=True), start=1):
        entry = {"id": image_id, "file_name": relative(frame.source, out), "height": frame.size[0],
                 "width": frame.size[1], "sonoclick_name": frame.name}
        if frame.multi_frame:
            entry["frame_index"] = frame.index
        images.append(entry)
        for obj, ann in zip(frame.objects, anns, strict=True):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": category[obj.class_name], **ann})
    doc = {
        "info": {"description": "SonoClick export", "version": "1.0"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": k + 1, "name": c.name, "supercategory": "", "color": c.colour,
                        "keypoints": KEYPOINTS, "skeleton": [[1, 2], [3, 4]]} for k, c in enumerate(data.classes)],
    }
    write_json(out / FILE, doc)
    return len(images), len(annotations), []


def _mask(path: Path, ann: dict, size: tuple[int, int]) -> np.ndarray | None:
    seg = ann.get("segmentation")
    h, w = size
    try:
        if seg in (None, []):
            return None
        if isinstance(seg, list):  # polygons
            if not all(isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0 for p in seg):
                raise ValueError("polygons must be flat lists of at least three x, y pairs")
            rle = mask_utils.merge(mask_utils.frPyObjects([[float(v) for v in p] for p in seg], h, w))
        elif isinstance(seg, dict) and isinstance(seg.get("counts"), list):
            rle = mask_utils.frPyObjects(seg, h, w)
        elif isinstance(seg, dict) and isinstance(seg.get("counts"), str):
            if [int(v) for v in seg.get("size", [])] != [h, w]:
                raise ValueError(f"RLE size {seg.get('size')} differs from the image's {[h, w]}")
            rle = {"size": [h, w], "counts": seg["counts"].encode("ascii")}
        else:
            raise ValueError("unknown segmentation type")
        mask = mask_utils.decode(rle)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise AnnotationFormatError(path, f"annotation {ann.get('id')}: bad segmentation ({exc})") from exc
    if mask.shape[:2] != size:
        raise AnnotationFormatError(path, f"annotation {ann.get('id')}: mask size differs from its image")
    return mask.astype(bool)


def _calipers(path: Path, ann: dict) -> Calipers | None:
    kp = ann.get("keypoints")
    if not isinstance(kp, list) or not kp:
        return None
    if len(kp) != 12:
        raise AnnotationFormatError(path, f"annotation {ann.get('id')}: expected 4 keypoints, got {len(kp) // 3}")
    if not any(kp[2::3]):
        return None
    xy = [number(v, path, f"annotation {ann.get('id')} keypoint") for k, v in enumerate(kp) if k % 3 != 2]
    return Calipers.from_array(np.array(xy).reshape(4, 2))


def read(path: Path) -> ExchangeSet:
    file = path / FILE if path.is_dir() else path
    doc = load_json(file)
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), list) for k in ("images", "annotations",
                                                                                   "categories")):
        raise AnnotationFormatError(file, "not a COCO file (images, annotations and categories lists)")
    try:
        categories = {int(c["id"]): str(c["name"]) for c in doc["categories"]}
        colours = {str(c["name"]): str(c.get("color", "#f5c400")) for c in doc["categories"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise AnnotationFormatError(file, "every category needs an id and a name") from exc
    images: dict[int, dict] = {}
    for image in doc["images"]:
        if not isinstance(image, dict) or not isinstance(image.get("file_name"), str):
            raise AnnotationFormatError(file, "every image needs a file_name")
        positive_int(image.get("height"), file, "image height")
        positive_int(image.get("width"), file, "image width")
        if not isinstance(image.get("id"), int | str) or image["id"] in images:
            raise AnnotationFormatError(file, f"image id {image.get('id')!r} is missing, not a number or repeated")
        images[image["id"]] = image
    objects: dict[int, list[ExchangeObject]] = {key: [] for key in images}
    for ann in doc["annotations"]:
        if not isinstance(ann, dict) or not isinstance(ann.get("image_id"), int | str) or ann["image_id"] not in images:
            raise AnnotationFormatError(file, f"annotation {ann.get('id') if isinstance(ann, dict) else ann!r}: "
                                              "unknown image")
        if not isinstance(ann.get("category_id"), int) or ann["category_id"] not in categories:
            raise AnnotationFormatError(file, f"annotation {ann.get('id')}: unknown category {ann.get('category_id')}")
        image = images[ann["image_id"]]
        mask = _mask(file, ann, (image["height"], image["width"]))
        calipers = _calipers(file, ann)
        if mask is not None or calipers is not None:
            objects[ann["image_id"]].append(ExchangeObject(categories[ann["category_id"]], mask, calipers))
    result = ExchangeSet([ClassInfo(name, colours[name]) for name in categories.values()])
    for key, image in images.items():
        name = str(image.get("sonoclick_name") or Path(image["file_name"]).stem)
        if not objects[key]:
            result.skipped.append(f"{image['file_name']}: nothing to import")
            continue
        index = image.get("frame_index", 0)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise AnnotationFormatError(file, f"image {key}: frame_index must be a non-negative integer")
        result.frames.append(ExchangeFrame(name, resolve(image["file_name"], file.parent), index,
                                           (image["height"], image["width"]), tuple(objects[key])))
    return result


FORMAT = Format("coco", "COCO instance segmentation JSON (RLE masks, calipers as keypoints)", FILE,
                write, read, carries_calipers=True, instances=True)
