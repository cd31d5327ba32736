"""A foreground/background click of the user (or of the simulated user), in image pixels."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Click:
    """x = column, y = row; positive = on the object, negative = background."""

    x: int
    y: int
    positive: bool
