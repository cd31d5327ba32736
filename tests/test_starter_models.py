"""The shipped starter models: found through importlib.resources, selected by the keyword "starter" on the
command line, and described by their checkpoint metadata and resources/models/README.md."""
from pathlib import Path

import pytest

from core.errors import SonoClickError
from core.interactive import starter_models
from core.interactive.starter_models import STARTER_CLICK_FILE, resolve_model_argument
from models.checkpoint_header import read_metadata
from tests.click_checkpoints import build_script


def test_the_keyword_starter_selects_the_shipped_click_network(tmp_path, monkeypatch):
    (tmp_path / STARTER_CLICK_FILE).write_bytes(b"x")
    monkeypatch.setattr(starter_models, "models_folder", lambda: tmp_path)
    assert resolve_model_argument("starter", "click") == tmp_path / STARTER_CLICK_FILE
    assert resolve_model_argument("some/model.safetensors", "click") == Path("some/model.safetensors")
    assert resolve_model_argument(None, "click") is None
    with pytest.raises(SonoClickError, match="no starter frame model"):
        resolve_model_argument("starter", "frame")


def test_without_the_file_the_keyword_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(starter_models, "models_folder", lambda: tmp_path)
    with pytest.raises(SonoClickError, match="no starter click network"):
        resolve_model_argument("starter", "click")


def test_the_shipped_starter_is_small_and_says_where_it_came_from():
    path = starter_models.starter_click_path()
    if path is None:
        pytest.skip("this checkout has no starter click network")
    meta = read_metadata(path)
    assert meta["task"] == "interactive"
    assert meta["starter"]["licence"] == "CC0 1.0" and "BUSI" in meta["starter"]["data"]
    assert "train_starter_models.py" in meta["starter"]["command"]
    total = sum(p.stat().st_size for p in path.parent.glob("*.safetensors"))
    assert total <= 10 * 1024 * 1024
    readme = (path.parent / "README.md").read_text()
    assert STARTER_CLICK_FILE in readme and "CC0" in readme


def test_the_starter_script_joins_only_checkpoints_beside_its_output(tmp_path, capsys):
    (tmp_path / "busi").mkdir()
    args = ["--data", str(tmp_path / "busi"), "--out", str(tmp_path / "out" / "head.safetensors")]
    for odd in ("../elsewhere/member.safetensors", "member.pt"):
        with pytest.raises(SystemExit):
            build_script("train_starter_models").main([*args, "--join", "beside.safetensors", odd])
        err = capsys.readouterr().err
        assert odd in err and "beside.safetensors" not in err
