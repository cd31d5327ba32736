"""Every file format SonoClick reads or writes, in one place. A format is one module in core/exchange/formats/
exposing FORMAT (a Format with a reader and/or a writer); list it in _MODULES and the CLI, the app's dialog and
the round-trip tests pick it up."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError
from core.exchange.model import ExchangeSet

# (an empty, private folder beside the target, so image paths relative to it hold for the target too; the
# annotations) -> (frames written, objects written, "<what>: <why>" for everything left out)
Writer = Callable[[Path, ExchangeSet], tuple[int, int, list[str]]]
Reader = Callable[[Path], ExchangeSet]  # a file or folder written by the writer (or by the other tool)


@dataclass(frozen=True)
class Format:
    name: str  # as the CLI spells it
    title: str  # one line for the app's dialog
    writes: str  # what it puts in the export folder
    writer: Writer | None = None
    reader: Reader | None = None
    carries_masks: bool = True
    carries_calipers: bool = False
    instances: bool = False  # keeps objects of one class apart (else one mask per class and frame)
    measures: bool = False  # writes measurements (caliper and derived axes): the export measures every frame
    carries_sparse: bool = False  # keeps clicks, scribbles and boxes
    carries_tags: bool = False  # keeps frame tags (and writes frames that have nothing else)


_MODULES = ("png", "points", "coco", "dicom_seg", "labelme", "cvat", "csv", "tags")


def formats() -> dict[str, Format]:
    """Name -> format, in the order the app lists them."""
    found = [importlib.import_module(f"core.exchange.formats.{module}").FORMAT for module in _MODULES]
    return {f.name: f for f in found}


def get_format(name: str) -> Format:
    known = formats()
    if name not in known:
        raise InputError(Path(name), f"unknown format {name!r} (known: {', '.join(known)})")
    return known[name]
