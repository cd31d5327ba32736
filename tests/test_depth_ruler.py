"""The depth ruler's ticks on synthetic frames: speckle beside a black margin, a dark nodule, a caption, the
ruler's spine and its ticks drawn at sub-pixel rows in the margin."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.labels.depth_ruler import find_ruler_ticks
from core.project.calibration import Calibration, CalibrationScope

SHIFT = 4  # cv2 drawing with 4 fractional bits: ticks at sub-pixel rows


def _line(img: np.ndarray, x0: float, x1: float, y: float) -> None:
    cv2.line(img, (round(x0 * 16), round(y * 16)), (round(x1 * 16), round(y * 16)), 240, 2, cv2.LINE_AA, SHIFT)


def frame(seed: int, x: int = 20, first: float = 30.3, interval: float = 37.5, ticks: int = 10,
          minor: bool = False, ruler: bool = True, margin: bool = True) -> np.ndarray:
    """The image with speckle right of a black margin 40 px wide; the ruler in the margin (or, margin=False, over
    the speckle, as evenly spaced bright echoes in tissue would be)."""
    rng = np.random.default_rng(seed)
    img = np.clip(rng.gamma(2.0, 30.0, (420, 500)), 0, 255).astype(np.uint8)
    if margin:
        img[:, :40] = rng.integers(0, 8, (420, 40))
    cv2.ellipse(img, (300, 200), (60, 40), 20, 0, 360, 15, -1)
    cv2.putText(img, "THY 12L", (200, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, 2)
    if ruler:
        cv2.line(img, (x + 8, 0), (x + 8, img.shape[0] - 1), 200, 1)  # the spine: a vertical line
        for k in range(ticks):
            _line(img, x, x + 8, first + k * interval)
            if minor and k < ticks - 1:
                _line(img, x + 4, x + 8, first + (k + 0.5) * interval)
    return img


@pytest.mark.parametrize("seed", [0, 1])
def test_ticks_and_their_interval(seed: int) -> None:
    ticks = find_ruler_ticks(frame(seed))
    assert ticks is not None and len(ticks.rows) == 10
    assert ticks.interval_px == pytest.approx(37.5, abs=0.05)
    assert ticks.rows[0] == pytest.approx(30.3, abs=0.5) and 18 <= ticks.x <= 30
    # proposed as a calibration: ticks 1 cm apart
    (p1, p2), distance = ticks.calibration_points(), ticks.distance_mm(10.0)
    calibration = Calibration(p1, p2, distance, CalibrationScope.FOLDER, 1)
    assert calibration.mm_per_px == pytest.approx(10 / 37.5, rel=2e-3)


def test_minor_ticks_halve_the_interval() -> None:
    ticks = find_ruler_ticks(cv2.cvtColor(frame(2, minor=True), cv2.COLOR_GRAY2BGR))
    assert ticks is not None and len(ticks.rows) == 19
    assert ticks.interval_px == pytest.approx(18.75, abs=0.05)


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_no_ruler_no_proposal(seed: int) -> None:
    assert find_ruler_ticks(frame(seed, ruler=False)) is None


def test_evenly_spaced_echoes_in_tissue_are_no_ruler() -> None:
    assert find_ruler_ticks(frame(8, margin=False)) is None
    assert find_ruler_ticks(frame(8)) is not None


def test_too_few_ticks_are_no_ruler() -> None:
    assert find_ruler_ticks(frame(7, ticks=3)) is None
    assert find_ruler_ticks(frame(7, ticks=3), min_ticks=3) is not None
