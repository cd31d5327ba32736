"""A dataset folder: DIR/images/<stem>.<ext>, optional DIR/masks/<stem>.png, optional DIR/labels/<stem>.json."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io.frame import Frame
from core.io.readers import read_frame

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm")


@dataclass(frozen=True)
class DatasetItem:
    stem: str
    image_path: Path
    mask_path: Path | None
    labels_path: Path | None

    def frame(self) -> Frame:
        return read_frame(self.image_path)

    def mask(self) -> np.ndarray | None:
        """Ground-truth mask as bool (nonzero = nodule), or None when the dataset has none."""
        if self.mask_path is None:
            return None
        return read_frame(self.mask_path).gray_u8() > 0


def read_split(path: str | Path) -> list[str]:
    p = Path(path)
    try:
        return [line.strip() for line in p.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(p, f"cannot read split file ({exc})") from exc


def list_dataset(data_dir: str | Path, split: str | Path | None = None) -> list[DatasetItem]:
    root = Path(data_dir)
    image_dir = root / "images"
    if not image_dir.is_dir():
        raise InputError(root, "no images/ folder (expected DIR/images/<stem>.<ext>)")
    images = {p.stem: p for p in sorted(image_dir.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    stems = read_split(split) if split else sorted(images, key=_natural_key)
    missing = [s for s in stems if s not in images]
    if missing:
        raise InputError(split or image_dir, f"{len(missing)} listed stems have no image, e.g. {missing[0]!r}")
    items = []
    for stem in stems:
        mask = root / "masks" / f"{stem}.png"
        labels = root / "labels" / f"{stem}.json"
        items.append(
            DatasetItem(stem, images[stem], mask if mask.exists() else None, labels if labels.exists() else None)
        )
    return items


def _natural_key(stem: str) -> tuple:
    return (0, int(stem), "") if stem.isdigit() else (1, 0, stem)
