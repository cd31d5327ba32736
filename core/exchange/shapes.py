"""Mask geometry for formats that store shapes: polygons (exact only where they redraw the same pixels), CVAT's
bounding-box run lengths and labelme's cropped PNG masks."""
from __future__ import annotations

import base64

import cv2
import numpy as np

from core.io.mask_codec import decode_mask, encode_mask


def fill_polygons(polygons: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the union of the polygons ((N, 2) x, y vertices), boundary pixels included."""
    canvas = np.zeros(size, np.uint8)
    if polygons:
        cv2.fillPoly(canvas, [np.round(p).astype(np.int32).reshape(-1, 1, 2) for p in polygons], 1)
    return canvas.astype(bool)


def exact_polygons(mask: np.ndarray) -> list[np.ndarray] | None:
    """Outer contours of the mask's parts as (N, 2) int vertices, or None when filling them would not give back
    exactly the same pixels (holes, one-pixel threads): the caller then stores the mask itself."""
    m = np.ascontiguousarray(mask, dtype=np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = [c.reshape(-1, 2) for c in contours]
    if not polygons or any(len(p) < 3 for p in polygons):
        return None
    return polygons if np.array_equal(fill_polygons(polygons, m.shape), m.astype(bool)) else None


def bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the nonzero pixels; the mask must not be empty."""
    ys, xs = np.nonzero(mask)
    left, top = int(xs.min()), int(ys.min())
    return left, top, int(xs.max()) - left + 1, int(ys.max()) - top + 1


def cvat_rle(mask: np.ndarray) -> tuple[str, tuple[int, int, int, int]]:
    """CVAT 1.1 mask: run lengths over the bounding box in row order, starting with a (maybe empty) 0 run."""
    left, top, width, height = bbox(mask)
    flat = np.asarray(mask[top : top + height, left : left + width], bool).ravel()
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    edges = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(edges).tolist()
    if flat[0]:
        runs = [0, *runs]
    return ", ".join(str(r) for r in runs), (left, top, width, height)


def from_cvat_rle(text: str, box: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    left, top, width, height = box
    runs = [int(v) for v in text.replace(" ", "").split(",") if v != ""]
    if any(r < 0 for r in runs) or sum(runs) != width * height:
        raise ValueError(f"run lengths add up to {sum(runs)}, the box has {width * height} pixels")
    values = np.zeros(len(runs), bool)
    values[1::2] = True
    flat = np.repeat(values, runs)
    out = np.zeros(size, bool)
    if left < 0 or top < 0 or left + width > size[1] or top + height > size[0]:
        raise ValueError(f"mask box {box} lies outside the {size[1]}x{size[0]} image")
    out[top : top + height, left : left + width] = flat.reshape(height, width)
    return out


def labelme_mask(mask: np.ndarray) -> tuple[list[list[float]], str]:
    """labelme's "mask" shape: the two corners of the bounding box and the cropped mask as base64 PNG."""
    left, top, width, height = bbox(mask)
    crop = mask[top : top + height, left : left + width]
    corners = [[float(left), float(top)], [float(left + width - 1), float(top + height - 1)]]
    return corners, base64.b64encode(encode_mask(crop)).decode("ascii")


def from_labelme_mask(corners: list, data: str, size: tuple[int, int]) -> np.ndarray:
    (x0, y0), (x1, y1) = [(int(round(float(x))), int(round(float(y)))) for x, y in corners]
    crop = decode_mask(base64.b64decode(data, validate=True))
    if crop.shape != (y1 - y0 + 1, x1 - x0 + 1):
        raise ValueError(f"mask is {crop.shape[1]}x{crop.shape[0]} but its box is {x1 - x0 + 1}x{y1 - y0 + 1}")
    if x0 < 0 or y0 < 0 or x1 >= size[1] or y1 >= size[0]:
        raise ValueError(f"mask box lies outside the {size[1]}x{size[0]} image")
    out = np.zeros(size, bool)
    out[y0 : y1 + 1, x0 : x1 + 1] = crop
    return out
