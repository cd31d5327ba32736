"""Compressed DICOM files made at test time from an uncompressed one, with whatever can encode each transfer
syntax here: pydicom's own encoders (RLE; JPEG-LS through pyjpegls; JPEG 2000 through pylibjpeg-openjpeg),
Pillow for JPEG Baseline (mono, and colour as YBR_FULL_422 the way scanners write it), and GDCM (python-gdcm)
for JPEG Extended and JPEG Lossless, which pydicom cannot encode. JPEG Extended with 12-bit samples has no
encoder here whose output any decoder reads back, so it is not made."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom import uid
from pydicom.encaps import encapsulate

from tests.test_frames import write_dicom

GDCM_SYNTAXES = {uid.JPEGExtended12Bit, uid.JPEGLossless, uid.JPEGLosslessSV1}
LOSSY = {uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLSNearLossless, uid.JPEG2000}


def _frames(pixels: np.ndarray, colour: bool) -> list[np.ndarray]:
    return list(pixels) if pixels.ndim == (4 if colour else 3) else [pixels]


def _pillow_jpeg(path: Path, pixels: np.ndarray, colour: bool) -> None:
    ds = pydicom.dcmread(path)
    encoded = []
    for frame in _frames(pixels, colour):
        buf = io.BytesIO()
        Image.fromarray(frame, "RGB" if colour else "L").save(buf, "JPEG", quality=90, subsampling=1)  # 4:2:2
        encoded.append(buf.getvalue())
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = uid.JPEGBaseline8Bit
    if colour:
        ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.LossyImageCompression = "01"
    ds.save_as(path, enforce_file_format=True)


def _gdcm(path: Path, syntax: str) -> None:
    import gdcm

    codes = {uid.JPEGExtended12Bit: gdcm.TransferSyntax.JPEGExtendedProcess2_4,
             uid.JPEGLossless: gdcm.TransferSyntax.JPEGLosslessProcess14,
             uid.JPEGLosslessSV1: gdcm.TransferSyntax.JPEGLosslessProcess14_1}
    reader = gdcm.ImageReader()
    reader.SetFileName(str(path))
    if not reader.Read():
        raise RuntimeError(f"GDCM cannot read {path}")
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(codes[syntax]))
    change.SetInput(reader.GetImage())
    if not change.Change():
        raise RuntimeError(f"GDCM cannot encode {syntax}")
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(path))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    if not writer.Write():
        raise RuntimeError(f"GDCM cannot write {path}")


def make_compressed(path: Path, pixels: np.ndarray, syntax: str, photometric: str = "MONOCHROME2") -> Path:
    """`pixels` ((N,) H, W(, 3)) written uncompressed, then re-encoded in place to `syntax`."""
    colour = photometric == "RGB"
    write_dicom(path, pixels, photometric, StudyInstanceUID=uid.generate_uid(), SeriesInstanceUID=uid.generate_uid())
    if syntax == uid.JPEGBaseline8Bit:
        _pillow_jpeg(path, pixels, colour)
    elif syntax in GDCM_SYNTAXES:
        _gdcm(path, syntax)
    else:
        ds = pydicom.dcmread(path)
        kwargs = {}
        if syntax == uid.JPEGLSNearLossless:
            kwargs["jls_error"] = 2
        if syntax == uid.JPEG2000:
            kwargs["j2k_psnr"] = [45.0]
        ds.compress(syntax, encoding_plugin="pylibjpeg" if "1.2.840.10008.1.2.4.9" in syntax else "", **kwargs)
        ds.save_as(path, enforce_file_format=True)
    return path
