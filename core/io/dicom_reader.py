"""DICOM frames through pydicom (>= 3): single and multi-frame, physical spacing, photometric interpretation.

Pixels keep their stored depth (8-bit -> uint8, 16-bit -> uint16). MONOCHROME1 is inverted so that bright always
means strong echo; YBR colour is converted to RGB by pydicom; PALETTE COLOR is expanded through its lookup table.
Frames are decoded one at a time from the file, so long cine loops never sit in memory whole.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, iter_pixels, pixel_array

from core.errors import FrameReadError
from core.io.frame import Frame

PIXEL_ELEMENTS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
UNITS_CM = 3  # PhysicalUnitsX/YDirection code for centimetres (DICOM PS3.3 C.8.5.5.1.15)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _header(path: Path) -> Dataset:
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=False, force=True, defer_size=1024)
    except Exception as exc:  # pydicom raises many types for damaged files
        raise FrameReadError(path, f"not a readable DICOM file ({_first_line(exc)})") from exc
    if ds.preamble is None and not any(k in ds for k in ("SOPClassUID", "Rows", *PIXEL_ELEMENTS)):
        raise FrameReadError(path, "unknown format (not an image, DICOM or video file)")
    if not any(name in ds for name in PIXEL_ELEMENTS):
        raise FrameReadError(path, "DICOM file has no pixel data")
    if "Rows" not in ds or "Columns" not in ds:
        raise FrameReadError(path, "DICOM file has no image size (Rows/Columns missing)")
    return ds


def _spacing_from_regions(ds: Dataset) -> tuple[float, float] | None:
    """(row, column) mm from the largest ultrasound region calibrated in centimetres."""
    best: tuple[float, tuple[float, float]] | None = None
    for region in ds.get("SequenceOfUltrasoundRegions", []):
        ux, uy = region.get("PhysicalUnitsXDirection"), region.get("PhysicalUnitsYDirection")
        dx, dy = region.get("PhysicalDeltaX"), region.get("PhysicalDeltaY")
        if ux != UNITS_CM or uy != UNITS_CM or not dx or not dy:
            continue
        area = abs(
            (region.get("RegionLocationMaxX1", 0) - region.get("RegionLocationMinX0", 0))
            * (region.get("RegionLocationMaxY1", 0) - region.get("RegionLocationMinY0", 0))
        )
        if best is None or area > best[0]:
            best = (area, (abs(float(dy)) * 10.0, abs(float(dx)) * 10.0))
    return best[1] if best else None


def spacing_mm(ds: Dataset) -> tuple[float, float] | None:
    """Pixel size (row, column) in mm: PixelSpacing (also inside enhanced multi-frame groups), else US regions."""
    candidates = [ds]
    for group in ds.get("SharedFunctionalGroupsSequence", []):
        candidates.extend(group.get("PixelMeasuresSequence", []))
    for item in candidates:
        value = item.get("PixelSpacing")
        if value is not None and len(value) == 2 and all(float(v) > 0 for v in value):
            return float(value[0]), float(value[1])
    return _spacing_from_regions(ds)


def _frame_count(ds: Dataset) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _to_display(path: Path, ds: Dataset, arr: np.ndarray) -> np.ndarray:
    """Stored values -> uint8/uint16 (H, W) or (H, W, 3) as the photometric interpretation means them."""
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
    bits_stored = int(ds.get("BitsStored", arr.dtype.itemsize * 8))
    if arr.dtype.kind == "i":  # signed: shift to unsigned so that ordering is kept
        arr = arr.astype(np.int64) + (1 << (bits_stored - 1))
        arr = arr.astype(np.uint8 if bits_stored <= 8 else np.uint16)
    if arr.dtype.kind == "u" and arr.dtype.itemsize > 2:
        if arr.size and int(arr.max()) > 0xFFFF:
            raise FrameReadError(path, f"unsupported DICOM bit depth ({bits_stored} bits stored)")
        arr = arr.astype(np.uint16)
    if arr.dtype.kind not in "ub":
        raise FrameReadError(path, f"unsupported DICOM pixel type {arr.dtype}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if photometric == "MONOCHROME1":
        top = (1 << min(bits_stored, arr.dtype.itemsize * 8)) - 1
        arr = (top - np.minimum(arr, top)).astype(arr.dtype)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    return np.ascontiguousarray(arr)


def count(path: Path) -> int:
    return _frame_count(_header(path))


def read(path: Path, index: int) -> Frame:
    ds = _header(path)
    n = _frame_count(ds)
    if not 0 <= index < n:
        raise FrameReadError(path, f"frame index {index} out of range (file has {n} frame(s))")
    try:
        arr = pixel_array(path, index=index if n > 1 else None, as_rgb=True)
    except Exception as exc:  # missing codec, truncated pixel data, ...
        raise FrameReadError(path, f"cannot decode DICOM pixel data ({_first_line(exc)})") from exc
    return Frame(_to_display(path, ds, arr), path, index, spacing_mm(ds))


def iterate(path: Path) -> Iterator[Frame]:
    ds = _header(path)
    spacing = spacing_mm(ds)
    index = 0
    try:
        for arr in iter_pixels(path, as_rgb=True):
            yield Frame(_to_display(path, ds, arr), path, index, spacing)
            index += 1
    except FrameReadError:
        raise
    except Exception as exc:
        raise FrameReadError(path, f"cannot decode DICOM frame {index} ({_first_line(exc)})") from exc


def sop_instance_uid(path: Path) -> str | None:
    """The file's SOPInstanceUID, or None when it is not a DICOM file with one (reads the header only)."""
    try:
        with Path(path).open("rb") as f:
            if f.read(132)[128:132] != b"DICM":
                return None
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
    except Exception:  # not DICOM, damaged or unreadable: simply not a match
        return None
    uid = ds.get("SOPInstanceUID")
    return str(uid) if uid else None
