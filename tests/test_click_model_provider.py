"""The app's click network runs in its own process: its answers equal the in-process network's, and a model that
cannot be used leaves the engine answering clicks without it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import ClickModelUnavailable
from core.interactive.click_inputs import CLICK_CHANNELS
from core.interactive.click_network import ClickPredictor
from core.interactive.session import InteractionSession
from core.labels.crop import Crop
from core.project.store import ProjectStore
from core.serving.click_model import CLICK_MODEL_SETTING, ClickModelProvider
from core.training.synthetic import make_frame
from models.checkpoint import save_checkpoint
from models.unet import UNet, spec_from_preset


@pytest.fixture()
def store(tmp_path):
    s = ProjectStore.create(tmp_path / "project")
    yield s
    s.close()


def _click_checkpoint(path):
    torch.manual_seed(0)
    meta = {"task": "interactive", "resolution": 32, "normalisation": {"mean": 0.3, "std": 0.2}}
    return save_checkpoint(path, UNet(spec_from_preset("tiny", CLICK_CHANNELS)), meta)


@pytest.mark.timeout(180)
def test_remote_answers_equal_the_local_network(store, tmp_path) -> None:
    path = _click_checkpoint(tmp_path / "click.safetensors")
    store.set_setting(CLICK_MODEL_SETTING, str(path))
    provider = ClickModelProvider()
    try:
        remote = provider.predictor(store)
        assert remote is not None and provider.wait_until_loaded(path, timeout=150)
        frame = make_frame(1, size=(120, 140))
        window = Crop(20, 90, 30, 110)
        positives, negatives = np.array([[60.0, 50.0]]), np.array([[35.0, 25.0]])
        local = ClickPredictor.load(path, threads=1)
        expected = local.predict(frame.image, window, positives, negatives, frame.mask)
        answer = remote.predict(frame.image, window, positives, negatives, frame.mask)
        assert answer.shape == window.shape
        np.testing.assert_allclose(answer, expected, atol=1e-5)
    finally:
        provider.close()


@pytest.mark.timeout(180)
def test_an_unusable_click_model_falls_back_to_the_engine(store, tmp_path) -> None:
    path = tmp_path / "not_a_model.safetensors"
    path.write_bytes(b"\x80\x04 this is a pickle, not our model")
    store.set_setting(CLICK_MODEL_SETTING, str(path))
    provider = ClickModelProvider()
    try:
        remote = provider.predictor(store)
        assert remote is not None
        assert not provider.wait_until_loaded(path, timeout=150)
        assert provider.last_error is not None and path.name in provider.last_error
        frame = make_frame(2, size=(120, 140), contrast=0.6)
        with pytest.raises(ClickModelUnavailable):
            remote.predict(frame.image, Crop(0, 50, 0, 50), np.zeros((0, 2)), np.zeros((0, 2)), None)
        ys, xs = np.nonzero(frame.mask)
        cx, cy = int(xs.mean()), int(ys.mean())
        mask = InteractionSession(frame.image, click_model=remote).add_click(cx, cy, True)
        assert mask[cy, cx]
        assert provider.predictor(store) is None  # not tried again until the user chooses it again
    finally:
        provider.close()
