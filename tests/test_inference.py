from pathlib import Path

import numpy as np
import pytest
import torch

from core.runtime.predictor import Predictor
from core.training.synthetic import make_frame
from models.checkpoint import save_checkpoint
from models.preprocess import Normalisation, content_box
from models.unet import build_unet

torch.set_num_threads(1)


def _model(tmp_path: Path, channels: tuple[str, ...] = ("image",)) -> Path:
    torch.manual_seed(0)
    meta = {"resolution": 64, "normalisation": Normalisation().to_dict()}
    return save_checkpoint(tmp_path / "m.safetensors", build_unet("tiny", channels), meta)


@pytest.mark.parametrize("size", [(90, 130), (64, 64), (37, 201)])
def test_predict_any_size_returns_probability_map(tmp_path: Path, size: tuple[int, int]) -> None:
    predictor = Predictor.load(_model(tmp_path), device="cpu", threads=1)
    prob = predictor.predict(make_frame(1, size=size).image)
    assert prob.shape == size and prob.dtype == np.float32
    assert 0.0 <= prob.min() and prob.max() <= 1.0


def test_batch_matches_single_and_tta_is_flip_symmetric(tmp_path: Path) -> None:
    path = _model(tmp_path)
    predictor = Predictor.load(path, device="cpu")
    images = [make_frame(k, size=(80, 96)).image for k in range(3)]
    batch = predictor.predict_batch(images)
    assert np.allclose(batch[1], predictor.predict(images[1]), atol=1e-5)
    tta = Predictor.load(path, device="cpu", flip_tta=True)
    symmetric = np.tile(np.linspace(0, 255, 40, dtype=np.float32), (64, 1))
    symmetric = np.concatenate([symmetric, symmetric[:, ::-1]], axis=1).astype(np.uint8)
    prob = tta.predict(symmetric)
    assert np.allclose(prob, prob[:, ::-1], atol=1e-4)


def test_rgb_input_and_extra_channels(tmp_path: Path) -> None:
    predictor = Predictor.load(_model(tmp_path, ("image", "ds_prior")), device="cpu")
    image = make_frame(2, size=(70, 90)).image
    assert predictor.extra_channels == ("ds_prior",)
    with pytest.raises(ValueError, match="predict_with_channels"):
        predictor.predict(image)
    prob = predictor.predict_with_channels(np.dstack([image] * 3), {"ds_prior": np.zeros((70, 90), np.float32)})
    assert prob.shape == (70, 90)


def test_content_box_drops_black_margin() -> None:
    image = make_frame(3, size=(120, 160)).image
    x0, y0, x1, y1 = content_box(image)
    assert x0 >= 2 and x1 == 160 and (y0, y1) == (0, 120)


def test_content_box_keeps_a_dark_lesion_band_inside_the_image() -> None:
    """A hypoechoic lesion with its acoustic shadow can leave whole columns and rows of the image mostly black;
    the crop must bridge them rather than cut the lesion away, and still drop the scanner margin."""
    rng = np.random.default_rng(0)
    image = np.zeros((200, 300), np.uint8)
    image[10:190, 40:290] = rng.integers(60, 200, (180, 250), dtype=np.uint8)
    image[60:190, 150:200] = 0  # lesion plus shadow: 72 % of these columns' rows are black
    image[60:100, 40:290] = 0  # a band of rows black across the whole image width
    image[20:30, 5:15] = 255  # a text mark in the margin, not part of the image
    box = np.array(content_box(image))
    assert np.abs(box - [40, 10, 290, 190]).max() <= 2  # the 5 px blur may widen the edges by 2 px
