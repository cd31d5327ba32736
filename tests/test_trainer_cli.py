"""train -> predict -> evaluate through `python -m core` on a synthetic dataset folder."""
import json
from pathlib import Path

import cv2
import pytest

from core.cli import main
from tests.conftest import write_dataset


def _last_json(capsys: pytest.CaptureFixture) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_predict_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = write_dataset(tmp_path / "data", 14)
    (tmp_path / "train.txt").write_text("\n".join(str(k) for k in range(10)))
    (tmp_path / "val.txt").write_text("\n".join(str(k) for k in range(10, 14)))
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--split", str(tmp_path / "train.txt"), "--supervision", "calipers",
                 "--out", str(run), "--epochs", "2", "--device", "cpu", "--threads", "1", "--width", "tiny",
                 "--resolution", "64", "--batch-size", "4", "--jitter", "2",
                 "--val-split", str(tmp_path / "val.txt")]) == 0
    summary = _last_json(capsys)
    assert summary["epochs"] == 2 and summary["seconds"] > 0 and 0 <= summary["best_val_dice"] <= 1
    assert (run / "model.safetensors").exists() and len(json.loads((run / "history.json").read_text())) == 2

    out = tmp_path / "pred"
    assert main(["predict", "--model", str(run / "model.safetensors"), "--input", str(data / "images" / "11.png"),
                 "--out", str(out), "--threads", "1"]) == 0
    assert _last_json(capsys)["frames"] == 1
    mask = cv2.imread(str(out / "11_mask.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (96, 112) and set(mask.ravel().tolist()) <= {0, 255}
    assert (out / "11_prob.png").exists()

    assert main(["evaluate", "--model", str(run / "model.safetensors"), "--data", str(data),
                 "--split", str(tmp_path / "val.txt"), "--threads", "1"]) == 0
    scores = _last_json(capsys)
    assert scores["n"] == 4 and set(scores) >= {"n", "dice", "iou", "hd95"}


def test_bad_model_file_is_a_clear_cli_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bogus = tmp_path / "model.safetensors"
    bogus.write_bytes(b"PK\x03\x04 not ours")
    data = write_dataset(tmp_path / "data", 1)
    assert main(["evaluate", "--model", str(bogus), "--data", str(data)]) == 2
    assert "model.safetensors" in capsys.readouterr().err


def test_val_split_overlapping_training_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = write_dataset(tmp_path / "data", 4)
    (tmp_path / "s.txt").write_text("0\n1\n")
    assert main(["train", "--data", str(data), "--split", str(tmp_path / "s.txt"), "--val-split",
                 str(tmp_path / "s.txt"), "--out", str(tmp_path / "run"), "--epochs", "1"]) == 2
    assert "shares 2 stems" in capsys.readouterr().err
