"""`python -m core propagate` on a multi-frame DICOM made at test time."""
import csv
import json
from pathlib import Path

import numpy as np

from core.annotation.caliper_simulation import calipers_from_mask
from core.cine.synthetic_clips import make_clip
from core.cli import main
from core.io.mask_files import read_mask, write_mask
from core.io.point_json import write_point_json
from core.runtime.metrics import dice
from core.training.synthetic import make_frame
from tests.test_frames import write_dicom


def test_propagate_writes_drafts_confidence_and_the_clip_measurement(tmp_path: Path, capsys) -> None:
    still = make_frame(4, size=(160, 200))
    clip = make_clip(still.image, still.mask, 12, seed=3)
    dicom = write_dicom(tmp_path / "sweep.dcm", np.stack(clip.frames), PixelSpacing=[0.1, 0.1])
    points = tmp_path / "key.json"
    write_point_json(points, [calipers_from_mask(clip.masks[5])], "sweep.dcm", (160, 200))
    out = tmp_path / "out"
    assert main(["propagate", "--input", str(dicom), "--from", "5", "--calipers", str(points), "--out", str(out),
                 "--threads", "1"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["frames"] == 12 and summary["stops"] == {"forward": "end", "backward": "end"}
    for index in range(12):
        mask = read_mask(out / "masks" / f"sweep_f{index:04d}.png", (160, 200))
        assert dice(mask, clip.masks[index]) > 0.8
    document = json.loads((out / "propagation.json").read_text())
    assert [t["key"] for t in document["tracks"]] == [i == 5 for i in range(12)]
    rows = list(csv.DictReader((out / "measurements.csv").open()))
    frame_rows = [r for r in rows if r["scope"] == "frame"]
    (clip_row,) = [r for r in rows if r["scope"] == "clip"]
    longest = max(frame_rows, key=lambda r: float(r["long_axis_px"]))
    assert (clip_row["frame_index"], clip_row["long_axis_px"]) == (longest["frame_index"], longest["long_axis_px"])
    assert summary["largest_long_axis"]["frame"] == int(clip_row["frame_index"])
    assert clip_row["long_axis_mm"] != ""


def test_propagate_limits_frames_and_direction(tmp_path: Path, capsys) -> None:
    still = make_frame(6, size=(120, 160))
    clip = make_clip(still.image, still.mask, 10, seed=1)
    dicom = write_dicom(tmp_path / "loop.dcm", np.stack(clip.frames))
    mask_path = tmp_path / "key.png"
    write_mask(mask_path, clip.masks[2])
    out = tmp_path / "out"
    assert main(["propagate", "--input", str(dicom), "--from", "2", "--mask", str(mask_path), "--out", str(out),
                 "--direction", "forward", "--max-frames", "3", "--threads", "1"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["stops"] == {"forward": "limit"}
    assert sorted(p.name for p in (out / "masks").iterdir()) == [f"loop_f{i:04d}.png" for i in (2, 3, 4, 5)]
