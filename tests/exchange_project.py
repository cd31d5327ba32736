"""A project of 50 synthetic frames with two classes for the interchange tests: 15 PNG files, 5 single-frame
DICOM files and one 30-frame DICOM clip. Every frame has a nodule (mask and calipers) and a thyroid gland mask
around it; every third frame a second nodule with calipers only; every seventh gland has a hole (polygons cannot
carry it exactly); frame 2 also has a draft mask, which exports must leave out."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from pydicom.uid import generate_uid

from core.annotation.points import Calipers
from core.project.records import MaskProvenance
from core.project.store import ProjectStore
from core.training.synthetic import make_frame
from tests.test_frames import write_dicom

SIZE = (96, 128)
GLAND = "thyroid gland"
STUDY = {"StudyInstanceUID": "1.2.826.0.1.3680043.8.498.1", "PatientID": "anon", "PatientName": "Anon^Ymous",
         "StudyDate": "20240101", "StudyTime": "120000", "ReferringPhysicianName": "", "StudyID": "1",
         "AccessionNumber": "", "PatientBirthDate": "", "PatientSex": "", "SeriesNumber": 1, "InstanceNumber": 1}


def calipers_of(mask: np.ndarray) -> Calipers:
    ys, xs = np.nonzero(mask)
    xc, yc = float(np.median(xs)), float(np.median(ys))
    return Calipers((float(xs.min()), yc), (float(xs.max()), yc), (xc, float(ys.min())), (xc, float(ys.max())))


def gland_around(mask: np.ndarray, seed: int) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    canvas = np.zeros(SIZE, np.uint8)
    centre = (int(xs.mean()), int(ys.mean()))
    cv2.ellipse(canvas, centre, (int(np.ptp(xs)) // 2 + 12, int(np.ptp(ys)) // 2 + 9), 0, 0, 360, 1, -1)
    if seed % 7 == 0:
        cv2.circle(canvas, (centre[0] + int(np.ptp(xs)) // 2 + 6, centre[1]), 2, 0, -1)
    return canvas.astype(bool)


def make_sources(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    frames = [make_frame(seed, SIZE, n_nodules=2) for seed in range(50)]
    paths = []
    for k in range(15):
        cv2.imwrite(str(folder / f"scan_{k:02d}.png"), frames[k].image)
        paths.append(folder / f"scan_{k:02d}.png")
    for k in range(15, 20):
        paths.append(write_dicom(folder / f"still_{k:02d}.dcm", frames[k].image, **STUDY,
                                 SeriesInstanceUID=generate_uid()))
    clip = np.stack([f.image for f in frames[20:]])
    paths.append(write_dicom(folder / "clip.dcm", clip, **STUDY, SeriesInstanceUID=generate_uid(),
                             PixelSpacing=[0.1, 0.1]))
    return paths


def make_project(folder: Path, sources: Path) -> ProjectStore:
    store = ProjectStore.create(folder)
    records = store.add_frames(make_sources(sources))
    assert len(records) == 50
    gland = store.add_class(GLAND)
    for k, record in enumerate(records):
        labels = make_frame(k, SIZE, n_nodules=2).labels
        nodule = labels == 1
        store.set_mask(record.id, 0, nodule, MaskProvenance.REFINED)
        store.set_calipers(record.id, 0, calipers_of(nodule))
        store.set_mask(record.id, 1, gland_around(nodule, k), MaskProvenance.PAINTED)
        store.set_object_class(record.id, 1, gland.id)
        if k % 3 == 0 and (labels == 2).any():
            store.set_calipers(record.id, 2, calipers_of(labels == 2))
        if k == 2:
            store.set_mask(record.id, 3, labels == 2, MaskProvenance.REFINED, accepted=False)
    return store
