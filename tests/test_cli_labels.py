import json

import cv2
import numpy as np
import pytest

from core.annotation.caliper_simulation import calipers_from_label_map
from core.cli import main
from core.io.point_json import write_point_json
from core.training.synthetic import make_frame


@pytest.fixture()
def dataset(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    (tmp_path / "labels").mkdir()
    for seed in range(4):
        f = make_frame(seed, size=(200, 240))
        cv2.imwrite(str(tmp_path / "images" / f"{seed}.png"), f.image)
        cv2.imwrite(str(tmp_path / "masks" / f"{seed}.png"), f.mask.astype(np.uint8) * 255)
    # frame 3 carries its own calipers as point JSON: they take precedence over simulated ones
    f = make_frame(3, size=(200, 240))
    write_point_json(tmp_path / "labels" / "3.json", calipers_from_label_map(f.labels), "3.png", f.image.shape[:2])
    (tmp_path / "split.txt").write_text("0\n1\n3\n")
    return tmp_path


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_labels_command_scores_and_writes_label_maps(dataset, capsys, tmp_path):
    out = tmp_path / "out"
    assert main(["labels", "--data", str(dataset), "--split", str(dataset / "split.txt"), "--out", str(out)]) == 0
    result = last_json(capsys)
    assert result["n"] == 3
    assert result["dice"] > 0.9 and result["fg_precision"] > 0.98 and result["bg_precision"] > 0.99
    assert 0.5 < result["coverage"] < 1.0 and result["ms_per_frame"] > 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["0.png", "1.png", "3.png"]
    assert set(np.unique(cv2.imread(str(out / "0.png"), cv2.IMREAD_UNCHANGED))) <= {0, 128, 255}


def test_jitter_lowers_dice_and_is_seeded(dataset, capsys):
    main(["labels", "--data", str(dataset), "--jitter", "6", "--seed", "3"])
    a = last_json(capsys)
    main(["labels", "--data", str(dataset), "--jitter", "6", "--seed", "3"])
    b = last_json(capsys)
    main(["labels", "--data", str(dataset)])
    exact = last_json(capsys)
    assert a["dice"] == b["dice"] and a["dice"] < exact["dice"]


def test_bad_input_gives_a_one_line_error_naming_the_file(dataset, capsys):
    (dataset / "labels" / "1.json").write_text("{not json")
    assert main(["labels", "--data", str(dataset)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) >= 1 and "1.json" in err.splitlines()[-1]
    assert main(["labels", "--data", str(dataset / "nope")]) == 2
    assert "nope" in capsys.readouterr().err


def test_bench_interactive_command(dataset, capsys):
    assert main(["bench-interactive", "--data", str(dataset), "--start", "calipers", "--max-clicks", "8"]) == 0
    result = last_json(capsys)
    assert result["n"] == 4 and 4 <= result["noc85"] <= 8 and len(result["miou_at"]) == 5
    assert result["miou_at"][3] > 0.8
    assert main(["bench-interactive", "--data", str(dataset), "--start", "none", "--max-clicks", "5"]) == 0
    result = last_json(capsys)
    assert result["latency_ms_p95"] > 0 and result["miou_at"][4] > result["miou_at"][0]


def test_labels_checks_points_against_height_and_width_of_a_non_square_frame(dataset, capsys):
    """Finding 4: the frame is 240 wide and 200 high; a point at row 220 lies below the last row."""
    from core.annotation.points import Calipers

    below = Calipers.from_array([(100.0, 50.0), (100.0, 220.0), (80.0, 120.0), (120.0, 120.0)])
    write_point_json(dataset / "labels" / "3.json", [below], "3.png", (200, 240))
    assert main(["labels", "--data", str(dataset), "--split", str(dataset / "split.txt")]) == 2
    assert "outside the 240x200 frame" in capsys.readouterr().err
