"""Redrawing an object's echogenicity (the starter click network's augmentation for other organs)."""
import cv2
import numpy as np
import pytest
from scipy import ndimage

from core.training.augment import LesionEchoConfig, borrowed_speckle, vary_lesion_echo
from core.training.synthetic import make_frame


@pytest.fixture()
def frame():
    return make_frame(5, size=(160, 200), contrast=0.6)  # a dark nodule, as breast lesions are


def test_a_dark_nodule_can_be_made_brighter_than_its_surroundings(frame) -> None:
    bright = LesionEchoConfig(contrast_range=(1.0, 1.0), halo_probability=0.0)
    out = vary_lesion_echo(frame.image, frame.mask, np.random.default_rng(0), bright).astype(float)
    ring = ndimage.binary_dilation(frame.mask, iterations=8) & ~ndimage.binary_dilation(frame.mask, iterations=3)
    before = frame.image[frame.mask].mean() - frame.image[ring].mean()
    after = out[frame.mask].mean() - out[ring].mean()
    assert before < 0 < after


def test_only_the_object_and_its_edge_change_and_a_seed_repeats(frame) -> None:
    out = vary_lesion_echo(frame.image, frame.mask, np.random.default_rng(3))
    far = ~ndimage.binary_dilation(frame.mask, iterations=12)
    assert np.array_equal(out[far], frame.image[far])
    assert not np.array_equal(out[frame.mask], frame.image[frame.mask])
    assert np.array_equal(out, vary_lesion_echo(frame.image, frame.mask, np.random.default_rng(3)))


def test_a_frame_without_an_object_is_left_as_it_is(frame) -> None:
    empty = np.zeros_like(frame.mask)
    assert vary_lesion_echo(frame.image, empty, np.random.default_rng(0)) is frame.image


def test_the_grain_is_the_frames_own_speckle_from_an_object_free_place(frame) -> None:
    img = frame.image.astype(np.float32)
    grain = borrowed_speckle(img, frame.mask, float(img.std()), np.random.default_rng(2))
    ys, xs = np.nonzero(frame.mask)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    outside = np.ones_like(frame.mask)
    outside[box] = False
    assert not grain[outside].any()
    texture = img - cv2.GaussianBlur(img, (0, 0), max(1.5, min(img.shape) / 100))  # as borrowed_speckle
    misfit = cv2.matchTemplate(texture, grain[box].copy(), cv2.TM_SQDIFF)
    sy, sx = np.unravel_index(misfit.argmin(), misfit.shape)
    assert misfit[sy, sx] < 1e-3 * float((grain[box] ** 2).sum())
    h, w = grain[box].shape
    assert not frame.mask[sy:sy + h, sx:sx + w].any()


def test_a_textureless_frame_has_no_speckle_to_lend(frame) -> None:
    flat = np.full(frame.image.shape, 90.0, np.float32)
    assert borrowed_speckle(flat, frame.mask, 10.0, np.random.default_rng(0)) is None
