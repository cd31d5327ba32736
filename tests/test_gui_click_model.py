"""Choosing a click network in the app: the shown frame's engine answers clicks with it (in the model's own
process), and the clicks stay hard constraints."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from PyQt5 import QtCore  # noqa: E402

from core.interactive.click_inputs import CLICK_CHANNELS  # noqa: E402
from core.serving.click_model import CLICK_MODEL_SETTING, RemoteClickPredictor  # noqa: E402
from models.checkpoint import save_checkpoint  # noqa: E402
from models.unet import UNet, spec_from_preset  # noqa: E402
from tests.conftest import click_image, press_key, truth, wait_idle, write_frames  # noqa: E402


@pytest.mark.timeout(240)
def test_a_chosen_click_model_answers_the_clicks(qtbot, tmp_path: Path, make_window, monkeypatch) -> None:
    answers = []
    original = RemoteClickPredictor.predict

    def counted(self, *args):
        answers.append(original(self, *args))
        return answers[-1]

    monkeypatch.setattr(RemoteClickPredictor, "predict", counted)
    torch.manual_seed(0)
    model_path = save_checkpoint(tmp_path / "click.safetensors", UNet(spec_from_preset("tiny", CLICK_CHANNELS)),
                                 {"task": "interactive", "resolution": 32, "normalisation": {"mean": 0.3, "std": 0.2}})
    write_frames(tmp_path / "frames", 2, corrupt=False)
    window = make_window()
    assert window.open_path(tmp_path / "frames")
    wait_idle(qtbot, window)
    assert "Click model…" in [a.text() for a in window.menuBar().actions()[3].menu().actions()]

    window.use_click_model(model_path)
    wait_idle(qtbot, window)
    store = window.session.store
    assert store.get_setting(CLICK_MODEL_SETTING) == str(model_path)
    frame = window.controller.current
    remote = frame.session(0).click_model
    assert isinstance(remote, RemoteClickPredictor)
    assert window.session.model.clicks.wait_until_loaded(model_path, timeout=200)

    mask, _ = truth(0)
    ys, xs = mask.nonzero()
    press_key(qtbot, window, QtCore.Qt.Key_K)
    click_image(qtbot, window, int(xs.mean()), int(ys.mean()))
    wait_idle(qtbot, window)
    shown = store.mask(window.controller.current_frame_id, 0)
    assert shown is not None and shown[int(ys.mean()), int(xs.mean())]
    assert window.session.model.clicks.last_error is None
    assert len(answers) == 1 and answers[0].ndim == 2  # the network answered the click
