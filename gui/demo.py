"""`python -m gui --demo`: generated synthetic frames in a temporary project, the first one already carrying
calipers and the engine's mask (a draft: press Enter to accept it). The first frame is a DICOM with a pixel
spacing, so lengths show in millimetres; the rest are PNGs (lengths in pixels) and one multi-page TIFF cine loop.
The temporary folder lives as long as the `demo_project()` block: it is removed however the app ends."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from core.annotation.caliper_simulation import calipers_from_label_map
from core.interactive.session import InteractionSession
from core.project.location import PROJECT_SUBFOLDER
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from core.training.synthetic import make_frame

DEMO_SIZE = (360, 500)
DEMO_SPACING_MM = 0.1
FIRST_SEED = 103  # a frame whose nodule is a typical 1-2 cm
US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"


def _write_dicom(path: Path, pixels: np.ndarray, spacing_mm: float) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = US_IMAGE_STORAGE
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = US_IMAGE_STORAGE
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelSpacing = [spacing_mm, spacing_mm]
    ds.PixelData = np.ascontiguousarray(pixels, np.uint8).tobytes()
    ds.save_as(path, enforce_file_format=True)


def write_demo_frames(folder: Path, n_frames: int = 8) -> list[Path]:
    """Synthetic frames as files: us_0001.dcm, us_0002.png ..., us_cine.tif (12 pages)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_frames):
        frame = make_frame(FIRST_SEED + i, DEMO_SIZE, n_nodules=2 if i % 4 == 3 else 1)
        path = folder / (f"us_{i + 1:04d}.dcm" if i == 0 else f"us_{i + 1:04d}.png")
        if i == 0:
            _write_dicom(path, frame.image, DEMO_SPACING_MM)
        else:
            cv2.imwrite(str(path), frame.image)
        paths.append(path)
    base = make_frame(200, DEMO_SIZE).image
    pages = [np.roll(base, (int(3 * np.sin(k / 2)), k), axis=(0, 1)) for k in range(12)]
    cine = folder / "us_cine.tif"
    cv2.imwritemulti(str(cine), pages)
    paths.append(cine)
    return paths


def create_demo_project(base: Path) -> Path:
    """Write the demo frames and their project under `base`; returns the folder of frames (its project is
    <folder>/.sonoclick)."""
    frames_dir = base / "frames"
    paths = write_demo_frames(frames_dir)
    with ProjectStore.create(frames_dir / PROJECT_SUBFOLDER) as store:
        records = store.add_frames(paths)
        first = records[0]
        labels = make_frame(FIRST_SEED, DEMO_SIZE, n_nodules=1).labels
        calipers = calipers_from_label_map(labels)[0]
        mask = InteractionSession(store.load_frame(first.id).gray_u8()).set_calipers(calipers)
        with store.action("Calipers", first.id):
            store.set_calipers(first.id, 0, calipers)
            store.set_mask(first.id, 0, mask, MaskProvenance.GENERATED, accepted=False)
    return frames_dir


@contextmanager
def demo_project() -> Iterator[Path]:
    """The demo's folder of frames in a new temporary folder, removed when the block ends (normally, by an
    exception or by an early return), also when writing the demo fails half-way."""
    base = Path(tempfile.mkdtemp(prefix="sonoclick-demo-"))
    try:
        yield create_demo_project(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
