"""`png`: a dataset folder as the training and evaluation commands read it.

images/<name>.png  the frame as stored (gray or colour, 8 or 16 bit)
masks/<name>.png   0 / 255, the union of the frame's masks of the project's first class (*nodule*, id 1)
masks-<slug>/<name>.png  the same for every other class (slug: the class name, lower case, [a-z0-9-])
classes.json       [{"name", "colour", "folder"}] in class order
One mask per class and frame: objects of one class are not kept apart. Frames without a mask are left out."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
import numpy as np

from core.errors import AnnotationFormatError, FrameReadError
from core.exchange.formats.common import load_json, masks_by_class, write_json
from core.exchange.model import ClassInfo, ExchangeFrame, ExchangeObject, ExchangeSet
from core.exchange.registry import Format
from core.io.dataset import IMAGE_SUFFIXES
from core.io.mask_files import read_mask
from core.io.readers import read_frame

CLASSES_FILE = "classes.json"


def class_folder(position: int, name: str) -> str:
    return "masks" if position == 0 else "masks-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "class")


def _png(pixels: np.ndarray) -> bytes:
    img = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if pixels.ndim == 3 else pixels
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def _mask_png(mask: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", mask.astype(np.uint8) * 255, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def _mask_files(frame: ExchangeFrame) -> dict[str, bytes]:
    """Class name -> its 0/255 PNG on the frame: the stored PNG itself where the class has one object."""
    with_mask = [o for o in frame.objects if o.has_mask]
    names = [o.class_name for o in with_mask]
    files = {o.class_name: o.png for o in with_mask if names.count(o.class_name) == 1 and o.png is not None}
    if len(files) < len(set(names)):
        files.update({n: _mask_png(m) for n, m in masks_by_class(frame).items() if n not in files})
    return files


def write(out: Path, data: ExchangeSet) -> tuple[int, int, list[str]]:
    folders = {c.name: class_folder(k, c.name) for k, c in enumerate(data.classes)}
    for folder in {"images", *folders.values()}:
        (out / folder).mkdir(parents=True, exist_ok=True)
    frames = objects = 0
    skipped = []
    for frame in data.frames:
        per_class = _mask_files(frame)
        if not per_class:
            skipped.append(f"{frame.name}: no accepted mask (calipers only)")
            continue
        image = out / "images" / f"{frame.name}.png"
        try:
            if frame.source.suffix.lower() == ".png" and not frame.multi_frame:
                shutil.copyfile(frame.source, image)  # already a PNG of exactly these pixels
            else:
                image.write_bytes(_png(read_frame(frame.source, frame.index).pixels))
        except FrameReadError as exc:
            skipped.append(f"{frame.name}: {exc}")
            continue
        for class_name, png in per_class.items():
            (out / folders[class_name] / f"{frame.name}.png").write_bytes(png)
        frames, objects = frames + 1, objects + len(per_class)
    write_json(out / CLASSES_FILE, [{"name": c.name, "colour": c.colour, "folder": folders[c.name]}
                                    for c in data.classes], indent=2)
    return frames, objects, skipped


def _classes(root: Path) -> list[tuple[ClassInfo, str]]:
    if not (root / CLASSES_FILE).is_file():
        return [(ClassInfo("nodule"), "masks")]
    doc = load_json(root / CLASSES_FILE)
    if not isinstance(doc, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str)
                                            and isinstance(c.get("folder"), str) for c in doc):
        raise AnnotationFormatError(root / CLASSES_FILE, "expected a list of {name, colour, folder}")
    for c in doc:
        if "/" in c["folder"] or "\\" in c["folder"] or c["folder"] in ("", ".", ".."):
            raise AnnotationFormatError(root / CLASSES_FILE, f"class folder {c['folder']!r} is not a plain name")
    return [(ClassInfo(c["name"], str(c.get("colour", "#f5c400"))), c["folder"]) for c in doc]


def read(path: Path) -> ExchangeSet:
    """A dataset folder; without images/ (exports made before this format had them) the masks are matched to
    the project's frames by name."""
    root = path
    if (root / "images").is_dir():
        stems = {p.stem: p for p in sorted((root / "images").iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    elif (root / "masks").is_dir():
        stems = {p.stem: None for p in sorted((root / "masks").glob("*.png"))}
    else:
        raise AnnotationFormatError(root, "no images/ or masks/ folder (a PNG dataset folder holds both)")
    classes = _classes(root)
    result = ExchangeSet([info for info, _ in classes])
    for stem, image in stems.items():
        objects = []
        for info, folder in classes:
            mask_path = root / folder / f"{stem}.png"
            if mask_path.is_file():
                mask = read_mask(mask_path)
                if mask.any():
                    objects.append((info.name, mask))
        if not objects:
            result.skipped.append(f"{stem}: nothing to import")
            continue
        size = objects[0][1].shape
        if any(m.shape != size for _, m in objects):
            raise AnnotationFormatError(root, f"{stem}: the class masks differ in size")
        result.frames.append(ExchangeFrame(stem, image, 0, size,
                                           tuple(ExchangeObject(name, m) for name, m in objects)))
    return result


FORMAT = Format("png", "PNG dataset folder (images/ + masks/, one mask folder per class)",
                "images/, masks/, masks-<class>/, classes.json", write, read)
