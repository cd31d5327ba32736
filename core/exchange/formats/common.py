"""What several formats share: image paths relative to the file that names them, guarded JSON reading and
writing, and one mask per class for formats that do not keep objects apart."""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from core.errors import AnnotationFormatError
from core.exchange.model import ExchangeFrame
from core.io.limits import load_json_bounded

MAX_JSON_BYTES = 512 * 1024 * 1024
WORKERS = min(4, os.cpu_count() or 1)

T = TypeVar("T")
R = TypeVar("R")


def in_parallel(work: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """work(item) for every item, in order, on a few threads: mask decoding and encoding (OpenCV, pycocotools)
    let go of the GIL, so frames go about twice as fast on two cores."""
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(work, items))


def relative(source: Path, folder: Path) -> str:
    """`source` relative to `folder` with / separators (absolute when on another drive)."""
    try:
        return Path(os.path.relpath(source, folder)).as_posix()
    except ValueError:
        return source.as_posix()


def resolve(reference: str, folder: Path) -> Path:
    p = Path(reference)
    return Path(os.path.normpath(p if p.is_absolute() else folder / p))


def load_json(path: Path) -> Any:
    """An exchange file's JSON (a regular file, size and nesting bounded before parsing)."""
    return load_json_bounded(path, MAX_JSON_BYTES, "an annotation file can be")


def write_json(path: Path, doc: Any, indent: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=indent, separators=None if indent else (",", ":")) + "\n")


def masks_by_class(frame: ExchangeFrame) -> dict[str, np.ndarray]:
    """Class name -> the union of that class's masks on the frame (classes without a mask left out)."""
    union: dict[str, np.ndarray] = {}
    for obj in frame.objects:
        mask = obj.mask
        if mask is not None:
            union[obj.class_name] = union[obj.class_name] | mask if obj.class_name in union else mask.copy()
    return union


def number(value: Any, path: Path, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise AnnotationFormatError(path, f"{what}: {value!r} is not a finite number")
    return float(value)


def positive_int(value: Any, path: Path, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise AnnotationFormatError(path, f"{what} must be a positive integer, got {value!r}")
    return value
