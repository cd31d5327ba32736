"""File-name stems for a project's frames in an export, unique within it (case-insensitively)."""
from __future__ import annotations

from collections import Counter

from core.project.records import FrameRecord


def export_names(records: list[FrameRecord]) -> dict[int, str]:
    """Frame id -> stem: the source's file stem, with _f<index> for frames of multi-frame sources and _<n> when
    two sources share a stem."""
    frames_per_source = Counter(r.path for r in records)
    names: dict[int, str] = {}
    taken: set[str] = set()
    source_stem: dict[str, str] = {}
    for r in records:
        if r.path not in source_stem:
            stem, n = r.source.stem, 2
            while stem.lower() in taken:
                stem, n = f"{r.source.stem}_{n}", n + 1
            taken.add(stem.lower())
            source_stem[r.path] = stem
        stem = source_stem[r.path]
        names[r.id] = f"{stem}_f{r.index:04d}" if frames_per_source[r.path] > 1 else stem
    return names
