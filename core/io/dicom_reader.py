"""DICOM frames through pydicom (>= 3): single and multi-frame, physical spacing, photometric interpretation.

Pixels keep their stored depth (8-bit -> uint8, 16-bit -> uint16). MONOCHROME1 is inverted so that bright always
means strong echo; YBR colour is converted to RGB by pydicom; PALETTE COLOR is expanded through its lookup table.
Frames are decoded one at a time from the file, so long cine loops never sit in memory whole.

Compressed transfer syntaxes (JPEG Baseline and Extended, JPEG Lossless, JPEG-LS, JPEG 2000, HTJ2K, RLE) are
decoded by pydicom's pixel plugins: pylibjpeg with pylibjpeg-libjpeg / -openjpeg / -rle reads them all; where a
faster plugin is installed the reader uses it (PREFERRED_PLUGINS, from bench/dicom_decode.py). A syntax nothing
installed can decode is refused before decoding, naming the syntax and the package that would read it.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, get_decoder, iter_pixels, pixel_array
from pydicom.uid import UID

from core.errors import FrameReadError
from core.io.frame import Frame
from core.io.limits import check_frame_count, check_frame_size

log = logging.getLogger(__name__)

# An ultrasound pixel is microns to a few millimetres; outside these bounds a stated spacing is a damaged header.
MIN_SPACING_MM = 1e-4
MAX_SPACING_MM = 50.0
PIXEL_ELEMENTS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
UNITS_CM = 3  # PhysicalUnitsX/YDirection code for centimetres (DICOM PS3.3 C.8.5.5.1.15)

_JPEG = "pylibjpeg with pylibjpeg-libjpeg (or python-gdcm)"
_J2K = "pylibjpeg with pylibjpeg-openjpeg (or python-gdcm)"
# transfer syntax UID prefix -> the package(s) that would decode it
DECODER_PACKAGES = {
    "1.2.840.10008.1.2.4.50": _JPEG, "1.2.840.10008.1.2.4.51": _JPEG, "1.2.840.10008.1.2.4.57": _JPEG,
    "1.2.840.10008.1.2.4.70": _JPEG, "1.2.840.10008.1.2.4.80": "pylibjpeg with pylibjpeg-libjpeg, or pyjpegls",
    "1.2.840.10008.1.2.4.81": "pylibjpeg with pylibjpeg-libjpeg, or pyjpegls", "1.2.840.10008.1.2.4.90": _J2K,
    "1.2.840.10008.1.2.4.91": _J2K, "1.2.840.10008.1.2.4.201": "pylibjpeg with pylibjpeg-openjpeg >= 2.4",
    "1.2.840.10008.1.2.4.202": "pylibjpeg with pylibjpeg-openjpeg >= 2.4",
    "1.2.840.10008.1.2.4.203": "pylibjpeg with pylibjpeg-openjpeg >= 2.4", "1.2.840.10008.1.2.5": "pylibjpeg-rle",
    "1.2.840.10008.1.2.4.10": "a video decoder (no pydicom plugin reads MPEG/H.264/HEVC: export the clip as "
                              "JPEG or uncompressed from the scanner or PACS)",
}
# Fastest installed plugin per syntax in bench/dicom_decode.py (100 colour frames of 600 x 800, one thread); a
# syntax not listed, or whose plugin is missing, is decoded by whichever plugin pydicom finds.
PREFERRED_PLUGINS = {
    "1.2.840.10008.1.2.4.50": "pillow",  # JPEG Baseline: 18 ms (gdcm 42, pylibjpeg 56)
    "1.2.840.10008.1.2.4.57": "gdcm",  # JPEG Lossless: 23 ms (pylibjpeg 62)
    "1.2.840.10008.1.2.4.70": "gdcm",  # JPEG Lossless SV1: 31 ms (pylibjpeg 76)
    "1.2.840.10008.1.2.4.80": "pyjpegls",  # JPEG-LS lossless: 46 ms (gdcm 49, pylibjpeg 282)
    "1.2.840.10008.1.2.4.81": "gdcm",  # JPEG-LS near-lossless: 35 ms (pyjpegls 41, pylibjpeg 279)
    "1.2.840.10008.1.2.4.90": "gdcm",  # JPEG 2000 lossless: 282 ms (pillow 362, pylibjpeg 405)
    "1.2.840.10008.1.2.4.91": "gdcm",  # JPEG 2000: 234 ms (pillow 418, pylibjpeg 568)
    "1.2.840.10008.1.2.5": "pylibjpeg",  # RLE: 1.5 ms (pydicom 4.5)
}


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
    _check_declared_size(path, ds)
    return ds


def _check_declared_size(path: Path, ds: Dataset) -> None:
    """Rows, Columns and NumberOfFrames within the limits, checked before any pixel is decoded."""
    try:
        rows, columns = int(ds.Rows), int(ds.Columns)
    except Exception as exc:  # a malformed value raises whatever its VR conversion raises
        raise FrameReadError(path, f"DICOM Rows/Columns are not numbers ({_first_line(exc)})") from exc
    check_frame_size(path, columns, rows)
    check_frame_count(path, _frame_count(ds))


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


def spacing_mm(ds: Dataset, path: Path | None = None) -> tuple[float, float] | None:
    """Pixel size (row, column) in mm: PixelSpacing (also inside enhanced multi-frame groups), else US regions.
    A malformed or physically impossible value is no spacing (with a logged warning), never an error: the pixels
    stay readable and no measurement is made in millimetres that are not."""
    try:
        spacing = _declared_spacing(ds)
    except Exception as exc:  # malformed optional tags raise whatever their VR conversion raises
        log.warning("%s: ignoring malformed pixel spacing (%s)", path or "DICOM", _first_line(exc))
        return None
    if spacing is not None and not all(MIN_SPACING_MM <= v <= MAX_SPACING_MM for v in spacing):
        log.warning("%s: ignoring pixel spacing %s mm, outside %g-%g mm", path or "DICOM", spacing,
                    MIN_SPACING_MM, MAX_SPACING_MM)
        return None
    return spacing


def _declared_spacing(ds: Dataset) -> tuple[float, float] | None:
    candidates = [ds]
    for group in ds.get("SharedFunctionalGroupsSequence", []):
        candidates.extend(group.get("PixelMeasuresSequence", []))
    for item in candidates:
        value = item.get("PixelSpacing")
        if value is not None and len(value) == 2 and all(float(v) > 0 for v in value):
            return float(value[0]), float(value[1])
        if value is not None and len(value) == 2:
            return None  # stated but zero or negative: impossible, and no reason to trust the regions either
    return _spacing_from_regions(ds)


def _frame_count(ds: Dataset) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _bits_stored(ds: Dataset, arr: np.ndarray) -> int:
    """BitsStored when it is a usable value for these pixels, else the pixel type's width."""
    container = arr.dtype.itemsize * 8
    try:
        bits = int(ds.get("BitsStored", container))
    except Exception:  # a malformed value: the decoded pixels still say how wide they are
        return container
    return bits if 1 <= bits <= container else container


def _to_display(path: Path, ds: Dataset, arr: np.ndarray) -> np.ndarray:
    """Stored values -> uint8/uint16 (H, W) or (H, W, 3) as the photometric interpretation means them."""
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
    bits_stored = _bits_stored(ds, arr)
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


def _packages_for(syntax: UID) -> str:
    for prefix, packages in DECODER_PACKAGES.items():
        if str(syntax).startswith(prefix):
            return packages
    return "a DICOM decoder for it (none known)"


def _plugin(path: Path, ds: Dataset) -> str:
    """The decoding plugin to ask for ("" = pydicom's choice); FrameReadError when nothing installed decodes the
    file's transfer syntax."""
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax is None or not UID(syntax).is_compressed:
        return ""
    syntax = UID(syntax)
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        decoder = None
    if decoder is None or not decoder.is_available:
        raise FrameReadError(path, f"DICOM transfer syntax {syntax.name} ({syntax}) cannot be decoded here; it needs "
                                   f"{_packages_for(syntax)}")
    preferred = PREFERRED_PLUGINS.get(str(syntax), "")
    return preferred if preferred in decoder.available_plugins else ""


def count(path: Path) -> int:
    return _frame_count(_header(path))


def read(path: Path, index: int) -> Frame:
    ds = _header(path)
    n = _frame_count(ds)
    if not 0 <= index < n:
        raise FrameReadError(path, f"frame index {index} out of range (file has {n} frame(s))")
    plugin = _plugin(path, ds)
    try:
        arr = pixel_array(path, index=index if n > 1 else None, as_rgb=True, decoding_plugin=plugin)
    except Exception as exc:  # missing codec, truncated pixel data, ...
        raise FrameReadError(path, f"cannot decode DICOM pixel data ({_first_line(exc)})") from exc
    return Frame(_to_display(path, ds, arr), path, index, spacing_mm(ds, path))


def iterate(path: Path) -> Iterator[Frame]:
    ds = _header(path)
    spacing = spacing_mm(ds, path)
    plugin = _plugin(path, ds)
    index = 0
    try:
        for arr in iter_pixels(path, as_rgb=True, decoding_plugin=plugin):
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
