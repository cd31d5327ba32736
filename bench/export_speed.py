"""Export speed: a project of N frames (default 1,000 PNG files of 600 x 800, ten distinct synthetic images),
each with a nodule (mask and calipers) and a thyroid-gland mask, exported in each format and in the app's
default set (png, points, csv). Times cover the whole export (reading the store, writing into a temporary
folder, renaming into place); the project is built once, outside the timings.

    python bench/export_speed.py [--frames 1000] [--height 600] [--width 800] [--formats coco,labelme,...]
                                 [--dicom]   (frames in one multi-frame DICOM clip instead of PNG files)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.annotation.points import Calipers  # noqa: E402
from core.exchange.export import export_project  # noqa: E402
from core.exchange.file_exchange import DEFAULT_EXPORT  # noqa: E402
from core.exchange.registry import formats  # noqa: E402
from core.project.object_replace import NewObject  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402
from tests.test_frames import write_dicom  # noqa: E402


def build(root: Path, frames: int, size: tuple[int, int], dicom: bool = False) -> ProjectStore:
    cv2.setNumThreads(1)
    images = root / "images"
    images.mkdir(parents=True)
    distinct = [make_frame(seed, size, n_nodules=1) for seed in range(10)]
    if dicom:
        clip = np.stack([distinct[k % 10].image for k in range(frames)])
        paths = [write_dicom(images / "clip.dcm", clip, StudyInstanceUID=generate_uid(),
                             SeriesInstanceUID=generate_uid(), PatientID="bench", PatientName="Bench^Mark")]
    else:
        encoded = [cv2.imencode(".png", f.image)[1].tobytes() for f in distinct]
        paths = []
        for k in range(frames):
            path = images / f"frame_{k:05d}.png"
            path.write_bytes(encoded[k % 10])
            paths.append(path)
    store = ProjectStore.create(root / "project")
    records = store.add_frames(paths)
    gland = store.add_class("thyroid gland")
    for k, record in enumerate(records):
        nodule = distinct[k % 10].mask
        ys, xs = np.nonzero(nodule)
        yc, xc = float(ys.mean()), float(xs.mean())
        calipers = Calipers((float(xs.min()), yc), (float(xs.max()), yc), (xc, float(ys.min())), (xc, float(ys.max())))
        around = cv2.dilate(nodule.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
        store.put_objects(record.id, [NewObject(1, nodule, calipers), NewObject(gland.id, around)], "painted")
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--height", type=int, default=600)
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--formats", default="", help="comma-separated; default: every writable format")
    parser.add_argument("--dicom", action="store_true", help="frames in one multi-frame DICOM clip")
    args = parser.parse_args()
    chosen = [f for f in args.formats.split(",") if f] or [n for n, f in formats().items() if f.writer is not None]
    runs = [[name] for name in chosen] + ([list(DEFAULT_EXPORT)] if not args.formats else [])
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        store = build(Path(tmp), args.frames, (args.height, args.width), args.dicom)
        print(f"built {args.frames} frames in {time.perf_counter() - start:.1f} s", flush=True)
        with store:
            for names in runs:
                start = time.perf_counter()
                report = export_project(store, Path(tmp) / "out", names)
                key = "+".join(names)
                seconds[key] = time.perf_counter() - start
                print(f"{key:20s} {seconds[key]:6.2f} s  frames {report.frames}  objects {report.objects}  "
                      f"skipped {len(report.skipped)}", flush=True)
    print(json.dumps({"frames": args.frames, "size": [args.height, args.width], "dicom": args.dicom, "seconds": seconds,
                      "cpu_count": os.cpu_count()}))


if __name__ == "__main__":
    main()
