import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from scipy import ndimage

from core.interactive.click_inputs import CLICK_CHANNELS, network_input, zoom_window
from core.labels.crop import Crop
from core.training.click_samples import ClickFrame, make_sample, robot_round
from core.training.click_task import ClickTrainConfig, train_click_model
from core.training.synthetic import make_frame
from models.checkpoint import read_metadata
from models.preprocess import Normalisation

torch.set_num_threads(1)


def _frames(n: int, seed0: int = 0) -> list[ClickFrame]:
    out = []
    for k in range(n):
        f = make_frame(seed0 + k, size=(96, 112), contrast=0.6)
        out.append(ClickFrame(str(k), f.image, f.mask))
    return out


def test_zoom_window_holds_mask_and_clicks_with_margin() -> None:
    mask = np.zeros((200, 300), bool)
    mask[50:90, 100:160] = True
    window = zoom_window(mask.shape, mask, np.array([[170.0, 95.0]]))
    assert window.x0 < 100 and window.y0 < 50 and window.x1 > 170 and window.y1 > 95
    lone = zoom_window(mask.shape, None, np.array([[20.0, 20.0]]))
    assert lone.contains(Crop(15, 25, 15, 25)) and lone.shape[0] >= 40


def test_network_input_places_clicks_in_their_planes() -> None:
    image = np.full((100, 100), 128, np.uint8)
    window = Crop(0, 100, 0, 100)
    planes = network_input(image, window, 32, Normalisation(), np.array([[10.0, 10.0]]), np.array([[80.0, 80.0]]),
                           None)
    assert planes.shape == (len(CLICK_CHANNELS), 32, 32)
    assert planes[1, 3, 3] == 1 and planes[1, 26, 26] == 0
    assert planes[2, 26, 26] == 1 and planes[2, 3, 3] == 0
    assert not planes[3].any()


def test_samples_click_on_the_nodule_and_rounds_add_a_click() -> None:
    frame = _frames(1)[0]
    rng = np.random.default_rng(0)
    for _ in range(10):
        planes, target = make_sample(frame, rng, 48, Normalisation())
        discs, n = ndimage.label(planes[1] > 0)
        assert n >= 1
        for cy, cx in ndimage.center_of_mass(discs > 0, discs, range(1, n + 1)):
            assert target[int(round(cy)), int(round(cx))] > 0  # every positive click sits on the nodule
    empty = np.zeros((1, *target.shape), np.float32)
    after = robot_round(planes[None], target[None], empty)
    assert after[0, 1].sum() > planes[1].sum()  # a missed nodule earns a positive click


def test_make_sample_applies_the_lesion_echo_share() -> None:
    frame = _frames(1)[0]
    plain = make_sample(frame, np.random.default_rng(4), 48, Normalisation())
    redrawn = make_sample(frame, np.random.default_rng(4), 48, Normalisation(), lesion_echo=1.0)
    assert not np.array_equal(plain[0][0], redrawn[0][0])  # the image plane differs


@pytest.mark.timeout(120)
def test_click_network_learns_in_seconds(tmp_path) -> None:
    frames, val = _frames(24), _frames(6, seed0=100)
    cfg = ClickTrainConfig(preset="tiny", resolution=48, epochs=10, batch_size=8, lr=1e-2, threads=1,
                           device="cpu", ema_decay=0.9)
    result = train_click_model(frames, val, cfg, tmp_path / "click.safetensors")
    first_epoch = result.history[0]["val_dice"]
    assert result.best_val_dice > 0.6 and result.best_val_dice > first_epoch - 0.05
    meta = read_metadata(result.checkpoint)
    assert meta["task"] == "interactive" and meta["architecture"]["input_channels"] == list(CLICK_CHANNELS)


def test_a_frozen_encoder_keeps_its_weights_and_statistics_while_the_decoder_learns(tmp_path) -> None:
    frames = _frames(4)
    base = ClickTrainConfig(preset="tiny", resolution=48, epochs=1, batch_size=4, threads=1, device="cpu", seed=0)
    start = train_click_model(frames, [], base, tmp_path / "start.safetensors").checkpoint
    cfg = ClickTrainConfig(preset="tiny", resolution=48, epochs=3, batch_size=4, threads=1, device="cpu", seed=1,
                           lr=1e-2, init_checkpoint=str(start), freeze_encoder=True)
    tuned = train_click_model(frames, [], cfg, tmp_path / "tuned.safetensors").checkpoint
    before, after = load_file(start), load_file(tuned)
    encoder = [k for k in before if k.startswith("encoders.")]
    assert encoder and any(k.endswith("running_mean") for k in encoder)
    assert all(torch.equal(before[k], after[k]) for k in encoder)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("decoders."))
