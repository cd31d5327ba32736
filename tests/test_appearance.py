"""Whole-frame appearance changes for the click network (other scanners and organs)."""
import numpy as np

from core.training.augment import AppearanceConfig, rayleigh_speckle, vary_appearance

ONLY_SPECKLE = AppearanceConfig(probability=1.0, gamma_range=(1.0, 1.0), gain_range=(1.0, 1.0),
                                contrast_range=(1.0, 1.0), blur_probability=0.0, speckle_probability=0.0,
                                rescale_probability=0.0, rayleigh_probability=1.0, rayleigh_strength=(1.0, 1.0))


def test_rayleigh_speckle_has_the_contrast_of_fully_developed_speckle() -> None:
    amp = rayleigh_speckle(np.random.default_rng(0), (200, 240), grain=1.5)
    assert abs(amp.mean() - 1.0) < 0.01
    assert 0.48 < amp.std() / amp.mean() < 0.56  # Rayleigh: sqrt(4 / pi - 1) = 0.523


def test_a_flat_frame_comes_out_speckled_and_a_seed_repeats() -> None:
    flat = np.full((120, 160), 100, np.uint8)
    out = vary_appearance(flat, np.random.default_rng(1), ONLY_SPECKLE).astype(float)
    assert 0.4 < out.std() / out.mean() < 0.6
    assert np.array_equal(out, vary_appearance(flat, np.random.default_rng(1), ONLY_SPECKLE))


def test_without_rayleigh_speckle_a_frame_is_left_unspeckled() -> None:
    flat = np.full((120, 160), 100, np.uint8)
    plain = AppearanceConfig(**{**ONLY_SPECKLE.__dict__, "rayleigh_probability": 0.0})
    assert np.array_equal(vary_appearance(flat, np.random.default_rng(1), plain), flat)
