"""Point annotations: caliper ends and foreground/background clicks, in image pixels (x = column, y = row)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class PointKind(StrEnum):
    LONG_1 = "long1"
    LONG_2 = "long2"
    SHORT_1 = "short1"
    SHORT_2 = "short2"
    FOREGROUND = "fg"
    BACKGROUND = "bg"

    @property
    def is_caliper(self) -> bool:
        return self in CALIPER_ORDER


CALIPER_ORDER = (PointKind.LONG_1, PointKind.LONG_2, PointKind.SHORT_1, PointKind.SHORT_2)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    kind: PointKind
    object_id: int = 0


@dataclass(frozen=True)
class Calipers:
    """The two clinical caliper lines of one nodule: long axis (A1, A2), perpendicular short axis (B1, B2)."""

    long_1: tuple[float, float]
    long_2: tuple[float, float]
    short_1: tuple[float, float]
    short_2: tuple[float, float]

    @classmethod
    def from_array(cls, points: np.ndarray) -> Calipers:
        p = np.asarray(points, dtype=float).reshape(4, 2)
        return cls(*(tuple(map(float, row)) for row in p))  # type: ignore[arg-type]

    def as_array(self) -> np.ndarray:
        """(4, 2) float array in the HCL-HRL order [A1, A2, B1, B2], columns (x, y)."""
        return np.array([self.long_1, self.long_2, self.short_1, self.short_2], dtype=float)

    @property
    def long_axis_px(self) -> float:
        return float(np.hypot(*np.subtract(self.long_1, self.long_2)))

    @property
    def short_axis_px(self) -> float:
        return float(np.hypot(*np.subtract(self.short_1, self.short_2)))

    def to_points(self, object_id: int = 0) -> list[Point]:
        return [Point(x, y, kind, object_id) for (x, y), kind in zip(self.as_array(), CALIPER_ORDER)]


def calipers_from_points(points: list[Point]) -> dict[int, Calipers]:
    """Group points into complete caliper sets per object id; incomplete sets are left out."""
    by_object: dict[int, dict[PointKind, tuple[float, float]]] = {}
    for p in points:
        if p.kind.is_caliper:
            by_object.setdefault(p.object_id, {})[p.kind] = (p.x, p.y)
    return {
        oid: Calipers(*(ends[k] for k in CALIPER_ORDER))
        for oid, ends in sorted(by_object.items())
        if all(k in ends for k in CALIPER_ORDER)
    }
