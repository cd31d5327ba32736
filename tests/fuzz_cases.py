"""Generated bad input for the fuzz suite (tests/test_fuzz_*.py) and bench/robustness.py: valid seed files of every
kind, mutated with a fixed seed (truncation, bit flips, spliced junk, header field mutation, size and nesting
extremes, wrong types), and the check that judges what SonoClick made of each.

`run_case(category, index, workdir)` builds case `index` of `category` (the same bytes every time) and returns an
Outcome: "ok" (accepted, and the result passed the checks), "clear" (a SonoClickError naming the problem),
"crash" (any other exception: a raw traceback for the user) or "wrong" (accepted, but the result is impossible).
"""
from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.errors import SonoClickError
from core.io.dicom_reader import MAX_SPACING_MM, MIN_SPACING_MM
from core.io.limits import MAX_FRAMES_PER_FILE, MAX_NODULES_PER_FRAME, MAX_PIXELS_PER_FRAME
from core.io.readers import read_frames

SEED = 20261129


@dataclass
class Outcome:
    kind: str  # ok | clear | crash | wrong
    detail: str = ""
    lost_edits: int = 0


def rng_for(category: str, index: int) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(category.encode()), index])


# ------------------------------------------------------------------------------------------------ mutations
def truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: int(rng.integers(0, len(data)))]


def flip_bits(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 17))):
        i = int(rng.integers(0, len(out)))
        out[i] ^= 1 << int(rng.integers(0, 8))
    return bytes(out)


def splice(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    start = int(rng.integers(0, len(out)))
    span = int(rng.integers(1, 65))
    out[start : start + span] = rng.integers(0, 256, span, dtype=np.uint8).tobytes()
    return bytes(out)


def byte_mutation(data: bytes, rng: np.random.Generator) -> bytes:
    return (truncate, flip_bits, splice)[int(rng.integers(0, 3))](data, rng)


EXTREME_INTS = (0, 1, 2, 3, 255, 256, 65_535, 65_536, 99_999, 2**31 - 1, 2**32 - 1)


def _pick(values: tuple, rng: np.random.Generator) -> Any:
    return values[int(rng.integers(0, len(values)))]


# ---------------------------------------------------------------------------------------------- frame checks
def check_frames(frames: list) -> Outcome:
    """Frames a reader accepted must be displayable within the limits."""
    if not frames or len(frames) > MAX_FRAMES_PER_FILE:
        return Outcome("wrong", f"{len(frames)} frames accepted")
    for f in frames:
        p = f.pixels
        if p.ndim not in (2, 3) or (p.ndim == 3 and p.shape[2] != 3) or p.dtype not in (np.uint8, np.uint16):
            return Outcome("wrong", f"frame {f.index}: pixels {p.shape} {p.dtype}")
        if p.shape[0] * p.shape[1] > MAX_PIXELS_PER_FRAME or min(p.shape[:2]) < 1:
            return Outcome("wrong", f"frame {f.index}: {p.shape} beyond the pixel limit")
        if f.spacing_mm is not None and not all(MIN_SPACING_MM <= v <= MAX_SPACING_MM for v in f.spacing_mm):
            return Outcome("wrong", f"frame {f.index}: impossible spacing {f.spacing_mm} reached the caller")
    return Outcome("ok")


def judged(work: Callable[[], Outcome]) -> Outcome:
    try:
        return work()
    except SonoClickError as exc:
        return Outcome("clear", str(exc).splitlines()[0][:200])
    except Exception as exc:  # noqa: BLE001 - this is what the fuzzer looks for
        return Outcome("crash", f"{type(exc).__name__}: {str(exc)[:200]}")


# --------------------------------------------------------------------------------------------- image seeds
def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def image_seeds() -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(SEED)
    gray = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    rgb = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    deep = rng.integers(0, 65_536, (30, 40), dtype=np.uint16)
    seeds = [(".png", gray), (".png", rgb), (".png", deep), (".jpg", gray), (".jpg", rgb), (".bmp", rgb),
             (".tif", deep), (".tif", rgb)]
    out = [(suffix, cv2.imencode(suffix, pixels)[1].tobytes()) for suffix, pixels in seeds]
    ok, pages = cv2.imencode(".tif", gray)
    multi = cv2.imencodemulti(".tif", [gray, gray // 2, gray // 3]) if hasattr(cv2, "imencodemulti") else (False, b"")
    if multi[0]:
        out.append((".tif", multi[1].tobytes()))
    return out


def png_with_header(width: int, height: int, depth: int = 8, colour: int = 0) -> bytes:
    """A tiny PNG whose IHDR declares width x height (checksums valid), with one row of real data."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def mutate_image_header(suffix: str, data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    if suffix == ".png":
        return ".png", png_with_header(_pick(EXTREME_INTS, rng), _pick(EXTREME_INTS, rng), _pick((1, 8, 16, 7), rng),
                                       _pick((0, 2, 3, 4, 6, 5), rng))
    out = bytearray(data)
    if suffix == ".jpg":
        at = data.find(b"\xff\xc0")
        at = at if at >= 0 else data.find(b"\xff\xc2")
        if at >= 0:
            out[at + 5 : at + 9] = struct.pack(">HH", _pick(EXTREME_INTS, rng) & 0xFFFF, _pick(EXTREME_INTS, rng)
                                                & 0xFFFF)
    elif suffix == ".bmp":
        out[18:26] = struct.pack("<ii", _pick(EXTREME_INTS, rng) & 0x7FFFFFFF, -(_pick(EXTREME_INTS, rng) & 0x7FFFFFF))
    else:  # TIFF: rewrite the value of a random entry of the first IFD
        ifd = struct.unpack("<I", data[4:8])[0] if data[:2] == b"II" else 8
        count = struct.unpack("<H", data[ifd : ifd + 2])[0] if ifd + 2 <= len(data) else 0
        if count:
            entry = ifd + 2 + 12 * int(rng.integers(0, count))
            out[entry + 8 : entry + 12] = struct.pack("<I", _pick(EXTREME_INTS, rng))
    return suffix, bytes(out)


def image_case(index: int, workdir: Path) -> Path:
    rng = rng_for("images", index)
    seeds = _cached("image_seeds", image_seeds)
    suffix, data = seeds[index % len(seeds)]
    if index % 40 >= len(seeds):  # the seeds themselves also run, unmutated
        suffix, data = mutate_image_header(suffix, data, rng) if rng.random() < 0.3 else (suffix, byte_mutation(data,
                                                                                                               rng))
    path = workdir / f"image_{index}{suffix}"
    path.write_bytes(data)
    return path


def run_image(index: int, workdir: Path) -> Outcome:
    path = image_case(index, workdir)
    return judged(lambda: check_frames(read_frames(path)))


# --------------------------------------------------------------------------------------------- DICOM seeds
DICOM_FIELDS = ("Rows", "Columns", "NumberOfFrames", "BitsAllocated", "BitsStored", "HighBit", "SamplesPerPixel",
                "PixelRepresentation", "PhotometricInterpretation", "PixelSpacing", "PlanarConfiguration")
DICOM_VALUES = (0, -1, 1, 7, 16, 65_535, 2**31 - 1, "abc", "", "1e300", "nan", "-0.5", [0.0, 0.0], [1e300, 1e-300],
                ["x", "y"], [0.1], "RGB", "PALETTE COLOR", "MONOCHROME1", "YBR_FULL", None, 3.5)


def dicom_case(index: int, workdir: Path) -> Path:
    from pydicom import config, dcmread

    from tests.test_frames import us_region, write_dicom

    rng = rng_for("dicom", index)
    path = workdir / f"dicom_{index}.dcm"
    kind = index % 5
    if kind == 0:
        write_dicom(path, rng.integers(0, 256, (24, 32), dtype=np.uint8), PixelSpacing=[0.1, 0.2])
    elif kind == 1:
        write_dicom(path, rng.integers(0, 4096, (24, 32), dtype=np.uint16), "MONOCHROME1")
    elif kind == 2:
        write_dicom(path, rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), "RGB")
    elif kind == 3:
        write_dicom(path, rng.integers(0, 256, (3, 24, 32), dtype=np.uint8),
                    SequenceOfUltrasoundRegions=[us_region(0, 0, 32, 24, 0.01, 0.01)])
    else:
        write_dicom(path, rng.integers(0, 256, (2, 24, 32), dtype=np.uint8), PixelSpacing=[0.3, 0.3])
    if index < 5:
        return path
    if rng.random() < 0.5:
        saved = config.settings.writing_validation_mode
        config.settings.writing_validation_mode = config.IGNORE
        try:
            ds = dcmread(path, force=True)
            for _ in range(int(rng.integers(1, 3))):
                setattr(ds, _pick(DICOM_FIELDS, rng), _pick(DICOM_VALUES, rng))
            ds.save_as(path)
            return path
        except Exception:  # noqa: BLE001 - pydicom cannot encode that value: mutate the bytes instead
            pass
        finally:
            config.settings.writing_validation_mode = saved
    path.write_bytes(byte_mutation(path.read_bytes(), rng))
    return path


def run_dicom(index: int, workdir: Path) -> Outcome:
    path = dicom_case(index, workdir)
    return judged(lambda: check_frames(read_frames(path)))


# --------------------------------------------------------------------------------------------- video seeds
def video_seed(workdir: Path) -> bytes:
    path = workdir / "seed.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (48, 32))
    for k in range(6):
        writer.write(np.full((32, 48, 3), 30 * k, np.uint8))
    writer.release()
    return path.read_bytes()


def video_case(index: int, workdir: Path) -> Path:
    rng = rng_for("video", index)
    data = _cached("video_seed", lambda: video_seed(workdir))  # bytes: valid in any workdir
    if index > 0:
        if rng.random() < 0.3 and data[:4] == b"RIFF":
            out = bytearray(data)
            at = data.find(b"avih")
            if at >= 0:  # dwTotalFrames, dwWidth, dwHeight of the main AVI header
                field = _pick((24, 40, 44), rng)
                out[at + field : at + field + 4] = struct.pack("<I", _pick(EXTREME_INTS, rng))
            data = bytes(out)
        else:
            data = byte_mutation(data, rng)
    path = workdir / f"video_{index}.avi"
    path.write_bytes(data)
    return path


def run_video(index: int, workdir: Path) -> Outcome:
    path = video_case(index, workdir)

    def work() -> Outcome:
        try:
            frames = read_frames(path)
        except SonoClickError:
            raise
        return check_frames(frames)

    return judged(work)


# ----------------------------------------------------------------------------------------------- point JSON
JSON_VALUES: tuple = (None, True, -1, 0, 1e308, -1e308, 2**70, 3.5, "x", "", [], {}, [[1, 2]], [1, 2, 3],
                      {"a": 1}, "NaN", float("nan"), float("inf"))
FRAME_SIZE = (64, 80)  # (height, width) of the frame imports check against


def point_doc(rng: np.random.Generator) -> dict:
    from core.annotation.points import Calipers
    from core.io.point_json import point_json_document

    nodules = []
    for _ in range(int(rng.integers(0, 4))):
        xy = rng.uniform([0, 0], [FRAME_SIZE[1], FRAME_SIZE[0]], (4, 2))
        nodules.append(Calipers.from_array(xy))
    return point_json_document(nodules, "frame.png", FRAME_SIZE)


def _random_node_path(doc: Any, rng: np.random.Generator) -> list:
    path: list = []
    node = doc
    while isinstance(node, dict | list) and node and rng.random() < 0.75:
        key = _pick(tuple(node.keys()), rng) if isinstance(node, dict) else int(rng.integers(0, len(node)))
        path.append(key)
        node = node[key]
    return path


def mutate_doc(doc: dict, rng: np.random.Generator) -> str:
    choice = int(rng.integers(0, 6))
    if choice == 0:  # a random node replaced by a value of another type
        path = _random_node_path(doc, rng)
        if path:
            parent = doc
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = _pick(JSON_VALUES, rng)
        return json.dumps(doc)
    if choice == 1:  # a key dropped
        path = _random_node_path(doc, rng)
        if path:
            parent = doc
            for key in path[:-1]:
                parent = parent[key]
            del parent[path[-1]]
        return json.dumps(doc)
    if choice == 2:  # nesting extremes
        depth = _pick((10, 40, 1_000, 100_000), rng)
        return json.dumps({**doc, "shapes": "@"}).replace('"@"', "[" * depth + "]" * depth)
    if choice == 3:  # size extremes: many copies of the shapes, or shapes far off the frame
        shapes = doc["shapes"] or [{"points": [[1, 1]], "shape_type": "point"}]
        doc["shapes"] = shapes * _pick((1_000, 1_001, 5_000), rng)
        if rng.random() < 0.5:
            doc["shapes"][0] = {"points": [[1e6, -1e6]], "shape_type": "point"}
        return json.dumps(doc)
    if choice == 4:  # declared size extremes or swapped
        doc["imageHeight"], doc["imageWidth"] = _pick((FRAME_SIZE[1], 0, -5, 10**9, "64", 64.0, None), rng), \
            _pick((FRAME_SIZE[0], 1, 2**40, True), rng)
        return json.dumps(doc)
    text = json.dumps(doc)
    return byte_mutation(text.encode(), rng).decode("utf-8", "replace") if text else text


def point_json_case(index: int, workdir: Path) -> Path:
    rng = rng_for("point_json", index)
    doc = point_doc(rng)
    path = workdir / f"labels_{index}.json"
    path.write_text(json.dumps(doc) if index % 25 == 0 else mutate_doc(doc, rng))
    return path


def check_calipers(nodules: list, size: tuple[int, int] | None) -> Outcome:
    if len(nodules) > MAX_NODULES_PER_FRAME:
        return Outcome("wrong", f"{len(nodules)} nodules accepted")
    for c in nodules:
        xy = c.as_array()
        if not np.isfinite(xy).all():
            return Outcome("wrong", "non-finite point accepted")
        if size is not None and ((xy < 0).any() or (xy[:, 0] > size[1]).any() or (xy[:, 1] > size[0]).any()):
            return Outcome("wrong", f"point off the {size[1]}x{size[0]} frame accepted")
    return Outcome("ok")


def run_point_json(index: int, workdir: Path) -> Outcome:
    from core.io.point_json import read_point_json

    path = point_json_case(index, workdir)
    size = FRAME_SIZE if index % 2 else None

    def work() -> Outcome:
        nodules = read_point_json(path, size)
        if size is None:
            doc = json.loads(path.read_text())
            declared = (doc.get("imageHeight"), doc.get("imageWidth"))
            return check_calipers(nodules, declared if None not in declared else None)
        return check_calipers(nodules, size)

    return judged(work)


# --------------------------------------------------------------------------------------------- checkpoints
META_VALUES: tuple = (None, -1, 0, 10**9, 2.5, "x", [], {}, [8, 16], [-8, 16], [4096] * 8, [8] * 40, ["8"], True,
                      "double", "transformer", float("nan"), {"mean": "a", "std": 0})


def checkpoint_seed(workdir: Path) -> bytes:
    import torch

    from models.checkpoint import save_checkpoint
    from models.unet import build_unet

    torch.manual_seed(0)
    path = save_checkpoint(workdir / "seed.safetensors", build_unet("tiny"),
                           {"resolution": 64, "normalisation": {"scale": 1 / 255, "mean": 0.25, "std": 0.2}})
    return path.read_bytes()


def checkpoint_case(index: int, workdir: Path) -> Path:
    from models.checkpoint_header import METADATA_KEY

    rng = rng_for("checkpoints", index)
    data = _cached("checkpoint_seed", lambda: checkpoint_seed(workdir))
    n = struct.unpack("<Q", data[:8])[0]
    header, body = json.loads(data[8 : 8 + n]), data[8 + n :]
    choice = int(rng.integers(0, 5)) if index else -1
    if choice == 0:  # a metadata field mutated
        meta = json.loads(header["__metadata__"][METADATA_KEY])
        path = _random_node_path(meta, rng) or ["architecture"]
        parent = meta
        for key in path[:-1]:
            parent = parent[key]
        if rng.random() < 0.2:
            del parent[path[-1]]
        else:
            parent[path[-1]] = _pick(META_VALUES, rng)
        header["__metadata__"][METADATA_KEY] = json.dumps(meta)
    elif choice == 1:  # a tensor entry mutated
        name = _pick(tuple(k for k in header if k != "__metadata__"), rng)
        field = _pick(("dtype", "shape", "data_offsets"), rng)
        header[name][field] = _pick(META_VALUES + ("F64", "I8", [0, 10**12]), rng)
    elif choice == 2:  # weights flipped (may make NaN or infinity)
        body = flip_bits(body, rng)
    if choice in (0, 1, 2, -1):
        raw = json.dumps(header).encode()
        data = struct.pack("<Q", len(raw)) + raw + body
    elif choice == 3:
        data = truncate(data, rng)
    else:
        data = flip_bits(data[:200], rng) + data[200:]
    path = workdir / f"model_{index}.safetensors"
    path.write_bytes(data)
    return path


def run_checkpoint(index: int, workdir: Path) -> Outcome:
    import torch

    from models.checkpoint import load_checkpoint

    path = checkpoint_case(index, workdir)

    def work() -> Outcome:
        model, _ = load_checkpoint(path)
        if not all(bool(torch.isfinite(t).all()) for t in model.state_dict().values() if t.is_floating_point()):
            return Outcome("wrong", "non-finite weights loaded")
        return Outcome("ok")

    return judged(work)


_CACHE: dict[str, Any] = {}


def _cached(key: str, make: Callable[[], Any]) -> Any:
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def fresh_dir(workdir: Path, name: str) -> Path:
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def regular_size(path: Path) -> int:
    return os.stat(path).st_size
