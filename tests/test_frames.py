"""Frame readers on files written here: still images, TIFF, DICOM, video, and every kind of bad input."""
from __future__ import annotations

import inspect
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.pixels import convert_color_space
from pydicom.sequence import Sequence
from pydicom.uid import JPEGBaseline8Bit

from core.errors import FrameReadError
from core.io.readers import count_frames, iter_frames, read_frame, read_frames
from tests.conftest import write_dicom

RNG = np.random.default_rng(7)


def us_region(x0: int, y0: int, x1: int, y1: int, delta_x: float, delta_y: float, units: int = 3) -> Dataset:
    region = Dataset()
    region.RegionSpatialFormat = 1
    region.RegionDataType = 1
    region.RegionLocationMinX0, region.RegionLocationMinY0 = x0, y0
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = x1, y1
    region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = units
    region.PhysicalDeltaX, region.PhysicalDeltaY = delta_x, delta_y
    return region


def write_avi(path: Path, n: int = 12, size: tuple[int, int] = (48, 64)) -> Path:
    """MJPG AVI whose frame k is gray level 20*k with a pure red (in RGB) square top-left."""
    h, w = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG AVI")
    for k in range(n):
        bgr = np.full((h, w, 3), 20 * k, np.uint8)
        bgr[:16, :16] = (0, 0, 255)
        writer.write(bgr)
    writer.release()
    return path


def _rgb_to_bgr(img: np.ndarray) -> np.ndarray:
    return img[..., ::-1] if img.ndim == 3 else img


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
@pytest.mark.parametrize("channels", [1, 3])
def test_lossless_8_bit_images_read_exactly(tmp_path: Path, suffix: str, channels: int) -> None:
    rgb = RNG.integers(0, 256, (30, 40, channels) if channels == 3 else (30, 40), dtype=np.uint8)
    path = tmp_path / f"img{suffix}"
    assert cv2.imwrite(str(path), _rgb_to_bgr(rgb))
    frame = read_frame(path)
    assert frame.pixels.dtype == np.uint8
    np.testing.assert_array_equal(frame.pixels, rgb)
    assert (frame.source, frame.index, frame.spacing_mm) == (path, 0, None)
    assert count_frames(path) == 1


@pytest.mark.parametrize("suffix", [".png", ".tiff"])
@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_images_keep_their_depth(tmp_path: Path, suffix: str, channels: int) -> None:
    rgb = RNG.integers(0, 65536, (20, 24, 3) if channels == 3 else (20, 24), dtype=np.uint16)
    path = tmp_path / f"deep{suffix}"
    assert cv2.imwrite(str(path), _rgb_to_bgr(rgb))
    pixels = read_frame(path).pixels
    assert pixels.dtype == np.uint16
    np.testing.assert_array_equal(pixels, rgb)


def test_jpeg_gray_and_colour_are_read_in_rgb_order(tmp_path: Path) -> None:
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[..., 0] = 220  # red
    assert cv2.imwrite(str(tmp_path / "c.jpg"), _rgb_to_bgr(rgb))
    assert cv2.imwrite(str(tmp_path / "g.jpeg"), np.full((32, 32), 90, np.uint8))
    colour = read_frame(tmp_path / "c.jpg").pixels
    assert colour.shape == (32, 32, 3) and abs(int(colour[..., 0].mean()) - 220) < 4 and colour[..., 2].mean() < 10
    gray = read_frame(tmp_path / "g.jpeg").pixels
    assert gray.shape == (32, 32) and abs(int(gray.mean()) - 90) < 3


def test_png_alpha_is_dropped(tmp_path: Path) -> None:
    bgra = np.zeros((8, 8, 4), np.uint8)
    bgra[..., 1], bgra[..., 3] = 200, 255
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    pixels = read_frame(tmp_path / "a.png").pixels
    assert pixels.shape == (8, 8, 3) and (pixels[..., 1] == 200).all()


def test_multi_page_tiff_gives_one_frame_per_page(tmp_path: Path) -> None:
    pages = [np.full((10, 12), 50 * k, np.uint16) for k in range(3)]
    path = tmp_path / "stack.tif"
    assert cv2.imwritemulti(str(path), pages)
    assert count_frames(path) == 3
    assert [int(f.pixels[0, 0]) for f in iter_frames(path)] == [0, 50, 100]
    assert read_frame(path, 2).pixels[0, 0] == 100 and read_frame(path, 2).index == 2
    with pytest.raises(FrameReadError, match="out of range"):
        read_frame(path, 3)


def test_dicom_16_bit_with_pixel_spacing(tmp_path: Path) -> None:
    pixels = RNG.integers(0, 4096, (20, 30), dtype=np.uint16)
    path = write_dicom(tmp_path / "a.dcm", pixels, PixelSpacing=[0.25, 0.125])
    frame = read_frame(path)
    assert frame.pixels.dtype == np.uint16
    np.testing.assert_array_equal(frame.pixels, pixels)
    assert frame.spacing_mm == (0.25, 0.125)


def test_dicom_monochrome1_is_inverted(tmp_path: Path) -> None:
    pixels = np.array([[0, 10], [200, 255]], np.uint8)
    frame = read_frame(write_dicom(tmp_path / "m1.dcm", pixels, "MONOCHROME1"))
    np.testing.assert_array_equal(frame.pixels, 255 - pixels)


def test_dicom_ybr_becomes_rgb(tmp_path: Path) -> None:
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[4:, :, 2] = 200, 40, 120
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    frame = read_frame(write_dicom(tmp_path / "ybr.dcm", ybr, "YBR_FULL"))
    assert frame.pixels.shape == (8, 8, 3)
    assert np.abs(frame.pixels.astype(int) - rgb).max() <= 2


def test_multi_frame_dicom_and_ultrasound_region_spacing(tmp_path: Path) -> None:
    cine = np.stack([np.full((16, 20), 30 * k, np.uint8) for k in range(4)])
    regions = Sequence([us_region(0, 0, 5, 5, 1.0, 1.0, units=4), us_region(0, 0, 19, 15, 0.01, 0.02)])
    path = write_dicom(tmp_path / "cine", cine, SequenceOfUltrasoundRegions=regions)  # no suffix, as scanners do
    assert count_frames(path) == 4
    frames = list(iter_frames(path))
    assert [int(f.pixels[0, 0]) for f in frames] == [0, 30, 60, 90]
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert frames[0].spacing_mm == pytest.approx((0.2, 0.1))  # cm -> mm, (row, column) = (delta Y, delta X)
    assert int(read_frame(path, 3).pixels[5, 5]) == 90
    with pytest.raises(FrameReadError, match="out of range"):
        read_frame(path, 4)


def test_jpeg_compressed_multi_frame_dicom(tmp_path: Path) -> None:
    rgb = np.zeros((3, 32, 48, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[1, ..., 2] = 200, 40, 150
    ds = pydicom.dcmread(write_dicom(tmp_path / "j.dcm", rgb, "RGB"))
    ds.PixelData = encapsulate([cv2.imencode(".jpg", f[..., ::-1])[1].tobytes() for f in rgb])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.save_as(tmp_path / "j.dcm")
    frames = read_frames(tmp_path / "j.dcm")
    assert len(frames) == 3
    assert np.abs(frames[1].pixels.astype(int) - rgb[1]).max() <= 4
    assert np.abs(read_frame(tmp_path / "j.dcm", 2).pixels.astype(int) - rgb[2]).max() <= 4


def test_iter_frames_is_lazy(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "c.dcm", np.zeros((3, 4, 4), np.uint8))
    assert inspect.isgenerator(iter_frames(path))


def test_avi_frames_are_rgb_and_seekable(tmp_path: Path) -> None:
    path = write_avi(tmp_path / "clip.avi")
    assert count_frames(path) == 12
    frames = read_frames(path)
    assert len(frames) == 12 and frames[0].pixels.shape == (48, 64, 3) and frames[0].pixels.dtype == np.uint8
    red = frames[0].pixels[2:14, 2:14].mean(axis=(0, 1))
    assert red[0] > 200 and red[2] < 40
    assert [abs(float(f.pixels[30:, 30:].mean()) - 20 * k) < 6 for k, f in enumerate(frames)] == [True] * 12
    seven = read_frame(path, 7)
    assert seven.index == 7 and abs(float(seven.pixels[30:, 30:].mean()) - 140) < 6
    with pytest.raises(FrameReadError, match="out of range"):
        read_frame(path, 12)


def test_truncated_video_yields_decodable_frames_then_raises(tmp_path: Path) -> None:
    data = write_avi(tmp_path / "clip.avi").read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.9)])
    got = []
    with pytest.raises(FrameReadError, match="truncated video") as err:
        for frame in iter_frames(cut):
            got.append(frame.index)
    assert "cut.avi" in str(err.value)
    assert 0 < len(got) < 12 and got == list(range(len(got)))
    with pytest.raises(FrameReadError, match="truncated video"):
        read_frames(cut)
    with pytest.raises(FrameReadError, match="truncated video"):
        read_frame(cut, 11)
    assert read_frame(cut, 0).pixels.shape == (48, 64, 3)

    header_only = tmp_path / "header.avi"
    header_only.write_bytes(data[:400])
    with pytest.raises(FrameReadError, match="cannot open video"):
        read_frames(header_only)


def _corrupt_png(tmp_path: Path) -> Path:
    ok, buf = cv2.imencode(".png", RNG.integers(0, 256, (20, 20), dtype=np.uint8))
    data = bytearray(buf.tobytes())
    data[40:60] = b"\x00" * 20  # inside IDAT: the checksum no longer matches
    path = tmp_path / "broken.png"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_corrupt_png, "corrupt"),
        (lambda d: _write(d / "empty.png", b""), "empty file"),
        (lambda d: _write(d / "notes.txt", b"hello world"), "unknown format"),
        (lambda d: _write(d / "README", b"hello world, no suffix"), "unknown format"),
        (lambda d: _write(d / "fake.jpg", b"this is not a jpeg"), "corrupt JPG"),
        (lambda d: _write(d / "half.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "corrupt"),
        (lambda d: _write(d / "junk.dcm", b"\x00" * 128 + b"DICM" + b"\x02" * 40), "DICOM"),
        (lambda d: _write(d / "junk.avi", b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 64), "cannot open video"),
        (lambda d: d / "missing.png", "file not found"),
        (lambda d: d, "folder"),
    ],
)
def test_bad_input_raises_frame_read_error_naming_the_file(tmp_path: Path, make, reason: str) -> None:
    path = make(tmp_path)
    for call in (read_frame, read_frames, count_frames):
        with pytest.raises(FrameReadError, match=reason) as err:
            call(path)
        assert path.name in str(err.value) and err.value.path == path
        assert "\n" not in str(err.value)


def test_dicom_without_pixel_data(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "nopix.dcm", np.zeros((4, 4), np.uint8))
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)
    with pytest.raises(FrameReadError, match="no pixel data") as err:
        read_frame(path)
    assert "nopix.dcm" in str(err.value)


def test_index_out_of_range_for_still_image(tmp_path: Path) -> None:
    path = tmp_path / "one.png"
    cv2.imwrite(str(path), np.zeros((4, 4), np.uint8))
    for index in (1, -1):
        with pytest.raises(FrameReadError, match="out of range"):
            read_frame(path, index)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
