"""Issue 15, findings 1 and 2: every input is bounded and refused with a clear message before it is decoded, and a
file that is not a regular file never blocks a reader."""
import json
import os
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

from core.errors import AnnotationFormatError, FrameReadError
from core.io.limits import MAX_JSON_SHAPES, MAX_PIXELS_PER_FRAME, json_nesting_depth
from core.io.point_json import read_point_json
from core.io.readers import count_frames, read_frame
from core.project.store import ProjectStore
from tests.test_frames import write_dicom

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


def png_bytes(width: int, height: int, rows: bytes | None = None) -> bytes:
    """A valid 8-bit gray PNG of width x height, all black, streamed so that no large array is ever built."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    line = b"\x00" * (width + 1)  # filter byte 0, then the row
    idat = b"".join(packer.compress(line) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def finishes(work, seconds: float = 20.0) -> tuple[bool, list]:
    """Run `work` in a thread; (finished in time, [its exception or result])."""
    outcome: list = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome.append(exc)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(seconds), outcome


def test_png_header_over_the_pixel_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    width, height = 12_000, 8_000  # 96 MP: decodes fine in OpenCV (under its 2^30 limit) and costs ~100 MB
    assert width * height > MAX_PIXELS_PER_FRAME
    path = tmp_path / "huge.png"
    path.write_bytes(png_bytes(width, height))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(FrameReadError, match="12000x8000 pixels is larger than SonoClick accepts"):
        read_frame(path)


def test_png_under_the_limit_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "fine.png"
    path.write_bytes(png_bytes(300, 200))
    assert read_frame(path).pixels.shape == (200, 300)


def test_dicom_declaring_impossible_sizes_is_refused(tmp_path: Path) -> None:
    huge = write_dicom(tmp_path / "huge.dcm", np.zeros((8, 8), np.uint8), Rows=60_000, Columns=60_000)
    with pytest.raises(FrameReadError, match="60000x60000 pixels is larger"):
        read_frame(huge)
    frames = write_dicom(tmp_path / "frames.dcm", np.zeros((2, 8, 8), np.uint8), NumberOfFrames=10**9)
    with pytest.raises(FrameReadError, match="1000000000 frames is more than SonoClick accepts"):
        count_frames(frames)


@needs_fifo
def test_a_fifo_named_like_an_image_does_not_block_the_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "x.png"
    os.mkfifo(fifo)
    finished, outcome = finishes(lambda: read_frame(fifo))
    if not finished:  # unblock the reader thread so the test process can end
        with open(fifo, "wb"):
            pass
    assert finished, "reading a FIFO blocked"
    assert isinstance(outcome[0], FrameReadError) and "not a regular file" in str(outcome[0])


@needs_fifo
def test_a_fifo_in_a_folder_does_not_block_add_frames(tmp_path: Path) -> None:
    fifo = tmp_path / "x.png"
    os.mkfifo(fifo)
    (tmp_path / "ok.png").write_bytes(png_bytes(40, 30))
    store = ProjectStore.create(tmp_path / "project")
    finished, outcome = finishes(lambda: store.add_frames([fifo, tmp_path / "ok.png"]))
    if not finished:
        with open(fifo, "wb"):
            pass
    assert finished, "add_frames blocked on a FIFO"
    fifo_record, ok_record = outcome[0]
    assert "not a regular file" in fifo_record.error and ok_record.readable and ok_record.width == 40
    store.close()


def test_deeply_nested_point_json_is_a_clear_error_not_recursion(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"shapes": ' + "[" * 200_000 + "]" * 200_000 + "}")
    with pytest.raises(AnnotationFormatError, match="nested 200001 levels deep"):
        read_point_json(path)


def test_point_json_with_too_many_shapes_is_refused(tmp_path: Path) -> None:
    shape = {"label": "long1", "points": [[1.0, 1.0]], "shape_type": "point"}
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"shapes": [shape] * (MAX_JSON_SHAPES + 4)}))
    with pytest.raises(AnnotationFormatError, match="shapes is more than a point file may hold"):
        read_point_json(path)


def test_oversized_point_json_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as f:
        f.truncate(20_000_000)
    with pytest.raises(AnnotationFormatError, match="larger than a point file can be"):
        read_point_json(path)


@pytest.mark.parametrize(("text", "depth"), [
    ("{}", 1), ('[[1, {"a": [2]}]]', 4), ('{"a": "[[[[", "b": "\\"{"}', 1), ("", 0), ('"]]]"', 0),
])
def test_json_nesting_depth_skips_brackets_inside_strings(text: str, depth: int) -> None:
    assert json_nesting_depth(text) == depth
