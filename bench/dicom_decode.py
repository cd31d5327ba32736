"""Decode time per frame of a compressed colour cine clip (default 100 frames of 600 x 800), for every transfer
syntax something here can encode and every pydicom decoding plugin installed (pylibjpeg, gdcm, pyjpegls,
pillow), plus SonoClick's reader (core.io.readers.iter_frames, which decodes, converts YBR to RGB and checks)
with the plugin it prefers. One thread. Each decoder's time is the best of --rounds passes over the clip, the
decoders taking turns, so that other load on the machine touches them alike. Prints a table, then one JSON line.

    python bench/dicom_decode.py [--frames 100] [--height 600] [--width 800] [--mono] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from pydicom import uid  # noqa: E402
from pydicom.pixels import get_decoder, iter_pixels  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.io.readers import iter_frames  # noqa: E402
from core.training.synthetic import make_frame  # noqa: E402
from tests.dicom_codecs import make_compressed  # noqa: E402

SYNTAXES = [uid.JPEGBaseline8Bit, uid.JPEGLossless, uid.JPEGLosslessSV1, uid.JPEGLSLossless, uid.JPEGLSNearLossless,
            uid.JPEG2000Lossless, uid.JPEG2000, uid.RLELossless]
COLOUR_UNRELIABLE = {uid.JPEGExtended12Bit}  # GDCM writes colour JPEG Extended that no decoder reads back right


def clip(frames: int, size: tuple[int, int], colour: bool) -> np.ndarray:
    """Speckled synthetic frames (ten distinct ones, repeated), tinted like a colour-Doppler-free US screen."""
    distinct = [make_frame(seed, size).image for seed in range(min(frames, 10))]
    mono = np.stack([distinct[k % len(distinct)] for k in range(frames)])
    if not colour:
        return mono
    return np.stack([mono, (mono * 0.92).astype(np.uint8), (mono * 0.85 + 10).astype(np.uint8)], axis=-1)


def time_plugin(path: Path, plugin: str) -> float:
    start = time.perf_counter()
    for _ in iter_pixels(path, decoding_plugin=plugin, as_rgb=True):
        pass
    return time.perf_counter() - start


def time_reader(path: Path) -> float:
    start = time.perf_counter()
    for _ in iter_frames(path):
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--height", type=int, default=600)
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--mono", action="store_true", help="a gray clip instead of a colour one")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    pixels = clip(args.frames, (args.height, args.width), not args.mono)
    photometric = "MONOCHROME2" if args.mono else "RGB"
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for syntax in SYNTAXES:
            path = Path(tmp) / f"{syntax}.dcm"
            start = time.perf_counter()
            make_compressed(path, pixels, syntax, photometric)
            encode_s = time.perf_counter() - start
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            decoder = get_decoder(syntax)
            row = {"encode_ms_per_frame": 1000 * encode_s / args.frames, "bytes_per_frame": path.stat().st_size
                   / args.frames, "photometric": str(ds.PhotometricInterpretation)}
            timers = {plugin: (lambda p=plugin, f=path: time_plugin(f, p)) for plugin in decoder.available_plugins}
            timers["sonoclick_reader"] = lambda f=path: time_reader(f)
            best = dict.fromkeys(timers, float("inf"))
            for _ in range(args.rounds):
                for name, timer in timers.items():
                    try:
                        best[name] = min(best[name], timer())
                    except Exception as exc:  # a plugin that cannot take this kind of image: say so in the table
                        best[name] = float("nan")
                        print(f"  {syntax.name}: {name} failed ({type(exc).__name__}: {str(exc)[:80]})")
            row.update({name: 1000 * seconds / args.frames for name, seconds in best.items()})
            results[syntax.name] = row
            print(f"{syntax.name[:58]:58s} " + "  ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
    print(json.dumps({"frames": args.frames, "size": [args.height, args.width], "colour": not args.mono,
                      "ms_per_frame": results}))


if __name__ == "__main__":
    main()
