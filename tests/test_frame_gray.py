"""Frame.gray_u8: the gray uint8 image every algorithm reads. Its values are fixed by the formula below (RGB
averaged in float32, anything not uint8 min-max scaled); the implementation saves memory on large RGB frames, so
it is checked against that formula on every pixel type a reader returns, and must never change the frame."""
from pathlib import Path

import numpy as np
import pytest

from core.io.frame import Frame


def _formula(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        img = img[..., :3].astype(np.float32).mean(axis=2)
    if img.dtype == np.uint8:
        return img
    img = img.astype(np.float32)
    lo, hi = float(img.min()), float(img.max())
    if hi <= lo:
        return np.zeros(img.shape, np.uint8)
    return np.clip((img - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("shape", "dtype"), [((40, 50), np.uint8), ((40, 50, 3), np.uint8), ((40, 50, 4), np.uint8),
                                              ((40, 50), np.uint16), ((40, 50, 3), np.uint16), ((40, 50), np.float32)])
def test_gray_u8_follows_the_formula_and_leaves_the_frame_alone(shape: tuple[int, ...], dtype: type) -> None:
    rng = np.random.default_rng(0)
    for _ in range(10):
        if dtype is np.float32:
            pixels = (rng.random(shape) * 1000).astype(np.float32)
        else:
            pixels = rng.integers(0, np.iinfo(dtype).max + 1, shape).astype(dtype)
        before = pixels.copy()
        gray = Frame(pixels, Path("frame.png")).gray_u8()
        assert gray.dtype == np.uint8 and gray.shape == shape[:2]
        assert np.array_equal(gray, _formula(before)) and np.array_equal(pixels, before)


def test_a_flat_frame_is_black() -> None:
    assert not Frame(np.full((8, 9, 3), 77, np.uint16), Path("flat.png")).gray_u8().any()
