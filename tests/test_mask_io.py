"""Mask PNG files."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import AnnotationFormatError
from core.io.mask_files import read_mask, write_mask
from core.training.synthetic import make_frame


def test_round_trip_writes_0_255(tmp_path: Path) -> None:
    mask = make_frame(5, (40, 60)).mask
    path = tmp_path / "masks" / "m.png"
    write_mask(path, mask)
    on_disk = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert on_disk.dtype == np.uint8 and set(np.unique(on_disk)) == {0, 255}
    np.testing.assert_array_equal(read_mask(path, (40, 60)), mask)


def test_any_nonzero_value_or_channel_is_nodule(tmp_path: Path) -> None:
    gray = np.array([[0, 1], [128, 255]], np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    np.testing.assert_array_equal(read_mask(tmp_path / "g.png"), [[False, True], [True, True]])
    colour = np.zeros((2, 2, 3), np.uint8)
    colour[0, 1, 2] = 9
    cv2.imwrite(str(tmp_path / "c.png"), colour)
    np.testing.assert_array_equal(read_mask(tmp_path / "c.png"), [[False, True], [False, False]])


def test_size_mismatch_raises(tmp_path: Path) -> None:
    write_mask(tmp_path / "small.png", np.ones((10, 12), bool))
    with pytest.raises(AnnotationFormatError, match="mask is 12x10 but the frame is 20x10") as err:
        read_mask(tmp_path / "small.png", (10, 20))
    assert "small.png" in str(err.value)


def test_unreadable_mask_raises_annotation_error(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    with pytest.raises(AnnotationFormatError, match="unreadable mask") as err:
        read_mask(tmp_path / "broken.png")
    assert "broken.png" in str(err.value)


def test_write_rejects_non_2d(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_mask(tmp_path / "x.png", np.ones((2, 2, 3), bool))
    assert not (tmp_path / "x.png").exists()
