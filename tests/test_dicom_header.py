"""Issue 15, finding 9: DICOM header values outside any physical range, and malformed optional tags, cost the
spacing (None, with a warning), never the pixels."""
import logging
from pathlib import Path

import numpy as np
import pytest

from core.io.readers import read_frame, read_frames
from tests.test_frames import us_region, write_dicom

PIXELS = np.arange(48, dtype=np.uint8).reshape(6, 8)


def patched(path: Path, old: bytes, new: bytes) -> Path:
    """Replace one value in the file's bytes (same length, so every offset stays valid)."""
    data = path.read_bytes()
    assert len(old) == len(new) and data.count(old) == 1
    path.write_bytes(data.replace(old, new))
    return path


def test_plausible_spacing_is_kept(tmp_path: Path) -> None:
    frame = read_frame(write_dicom(tmp_path / "ok.dcm", PIXELS, PixelSpacing=[0.125, 0.25]))
    assert frame.spacing_mm == (0.125, 0.25)


@pytest.mark.parametrize("spacing", [[1e9, 1e9], [1e-9, 0.1], [0.1, -0.1], [0.0, 0.1]])
def test_impossible_pixel_spacing_becomes_none(tmp_path: Path, spacing: list, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        frame = read_frame(write_dicom(tmp_path / "bad.dcm", PIXELS, PixelSpacing=spacing))
    assert frame.spacing_mm is None
    assert np.array_equal(frame.pixels, PIXELS)


def test_malformed_pixel_spacing_keeps_the_pixels_readable(tmp_path: Path, caplog) -> None:
    path = write_dicom(tmp_path / "malformed.dcm", PIXELS, PixelSpacing=[0.5, 0.5])
    patched(path, b"0.5\\0.5 ", b"ab\\cd!? ")
    with caplog.at_level(logging.WARNING):
        frames = read_frames(path)
    assert np.array_equal(frames[0].pixels, PIXELS) and frames[0].spacing_mm is None
    assert "ignoring malformed pixel spacing" in caplog.text and "malformed.dcm" in caplog.text


def test_ultrasound_region_with_an_impossible_delta_gives_no_spacing(tmp_path: Path) -> None:
    region = us_region(0, 0, 8, 6, delta_x=1e6, delta_y=1e6)
    frame = read_frame(write_dicom(tmp_path / "region.dcm", PIXELS, SequenceOfUltrasoundRegions=[region]))
    assert frame.spacing_mm is None and np.array_equal(frame.pixels, PIXELS)

