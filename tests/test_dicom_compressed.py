"""Compressed DICOM through the frame readers: every transfer syntax the issue names, mono and colour, single
and multi-frame, against the uncompressed pixels (lossless: identical) or an independent decoder and the
codec's tolerance (lossy). Files are made at test time (see tests/dicom_codecs.py for what encodes what)."""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom import uid
from pydicom.encaps import encapsulate, generate_frames
from pydicom.pixels import get_decoder, iter_pixels

import core.io.dicom_reader as dicom_reader
from core.errors import FrameReadError
from core.io.readers import count_frames, iter_frames, read_frame
from core.training.synthetic import make_frame
from tests.dicom_codecs import GDCM_SYNTAXES, make_compressed
from tests.test_frames import write_dicom

LOSSLESS = [uid.JPEGLossless, uid.JPEGLosslessSV1, uid.JPEGLSLossless, uid.JPEG2000Lossless, uid.RLELossless]
MONO = np.stack([make_frame(seed, (48, 64)).image for seed in range(3)])
COLOUR = np.stack([MONO, (MONO * 0.6).astype(np.uint8), 255 - MONO], axis=-1)
KINDS = {  # name -> (pixels, photometric, multi-frame)
    "mono clip": (MONO, "MONOCHROME2", True),
    "colour clip": (COLOUR, "RGB", True),
    "mono still": (MONO[0], "MONOCHROME2", False),
    "colour still": (COLOUR[0], "RGB", False),
    "16-bit clip": (MONO.astype(np.uint16) * 13, "MONOCHROME2", True),
}


def _make(tmp_path: Path, kind: str, syntax: str) -> tuple[Path, np.ndarray, bool]:
    if syntax in GDCM_SYNTAXES:
        pytest.importorskip("gdcm", reason="python-gdcm encodes JPEG Extended and JPEG Lossless test files")
    pixels, photometric, clip = KINDS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = make_compressed(tmp_path / "x.dcm", pixels, syntax, photometric)
    assert pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID == syntax
    return path, pixels, clip


def _decoded(path: Path, clip: bool) -> np.ndarray:
    frames = [f.pixels for f in iter_frames(path)]
    if clip:
        assert count_frames(path) == len(frames) == 3
        np.testing.assert_array_equal(read_frame(path, 2).pixels, frames[2])  # one frame alone decodes the same
        return np.stack(frames)
    assert len(frames) == 1
    return frames[0]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("syntax", LOSSLESS, ids=lambda s: s.name)
def test_lossless_syntaxes_decode_to_the_source_pixels(tmp_path: Path, syntax: str, kind: str) -> None:
    path, pixels, clip = _make(tmp_path, kind, syntax)
    got = _decoded(path, clip)
    assert got.dtype == pixels.dtype
    np.testing.assert_array_equal(got, pixels)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(float) - b.astype(float)) ** 2).mean())
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


LOSSY = [  # syntax, kind, minimum PSNR against the source (dB)
    (uid.JPEGBaseline8Bit, "mono clip", 35.0),
    (uid.JPEGBaseline8Bit, "mono still", 35.0),
    (uid.JPEGBaseline8Bit, "colour clip", 24.0),  # YBR_FULL_422: chroma halved across, on saturated speckle
    (uid.JPEGBaseline8Bit, "colour still", 24.0),
    (uid.JPEGExtended12Bit, "mono clip", 45.0),  # 8-bit samples (process 2); 12-bit: no encoder here
    (uid.JPEG2000, "mono clip", 42.0),
    (uid.JPEG2000, "colour clip", 42.0),
]


@pytest.mark.parametrize("syntax, kind, min_psnr", LOSSY, ids=lambda v: getattr(v, "name", str(v)))
def test_lossy_syntaxes_decode_as_an_independent_decoder_does(tmp_path: Path, syntax: str, kind: str,
                                                              min_psnr: float) -> None:
    path, pixels, clip = _make(tmp_path, kind, syntax)
    got = _decoded(path, clip)
    assert got.shape == pixels.shape and _psnr(got, pixels) >= min_psnr
    ds = pydicom.dcmread(path)
    mode = "RGB" if got.ndim == (4 if clip else 3) else "L"
    codestreams = generate_frames(ds.PixelData, number_of_frames=3 if clip else 1)
    reference = np.stack([np.asarray(Image.open(io.BytesIO(c)).convert(mode)) for c in codestreams])
    assert np.abs(got.reshape(reference.shape).astype(int) - reference).max() <= 1  # Pillow's own decode
    for plugin in get_decoder(syntax).available_plugins:  # every other decoder installed agrees: to rounding,
        other = np.stack(list(iter_pixels(path, decoding_plugin=plugin, as_rgb=True))).reshape(reference.shape)
        if mode == "L" or syntax != uid.JPEGBaseline8Bit:
            assert np.abs(other.astype(int) - reference).max() <= 2, plugin
        else:  # or, for 4:2:2 colour, to how each decoder upsamples the halved chroma
            assert _psnr(other, reference) >= 30.0, plugin


@pytest.mark.parametrize("kind", ["mono clip", "colour clip", "16-bit clip"])
def test_jpeg_ls_near_lossless_stays_within_its_bound(tmp_path: Path, kind: str) -> None:
    path, pixels, clip = _make(tmp_path, kind, uid.JPEGLSNearLossless)  # made with NEAR = 2
    got = _decoded(path, clip)
    error = np.abs(got.astype(int) - pixels.astype(int))
    assert error.max() <= 2 and error.any()


def test_a_syntax_nothing_here_decodes_names_what_would(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "video.dcm", MONO[0])
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = uid.MPEG4HP41
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + bytes(60)])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(FrameReadError, match=r"MPEG-4 AVC/H.264 High Profile.*\(1\.2\.840\.10008\.1\.2\.4\.102\).*"
                                             r"video decoder"):
        read_frame(path)


def test_a_missing_plugin_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _, _ = _make(tmp_path, "mono still", uid.JPEGLSLossless)
    missing = SimpleNamespace(is_available=False, available_plugins=())
    monkeypatch.setattr(dicom_reader, "get_decoder", lambda syntax: missing)
    for read in (lambda: read_frame(path), lambda: list(iter_frames(path))):
        with pytest.raises(FrameReadError, match=r"JPEG-LS Lossless Image Compression .* needs pylibjpeg with "
                                                 r"pylibjpeg-libjpeg, or pyjpegls"):
            read()
