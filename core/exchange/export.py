"""Export a project through the registry, all or nothing: every chosen format is written into a fresh private
folder made beside the target (tempfile.mkdtemp), which is then renamed into place. A failed export leaves the
target as it was; an earlier export there is replaced whole, never mixed with new files. A target that holds
anything else is refused, so an export never deletes files it did not write."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputError
from core.exchange.collect import carried_by, collect
from core.exchange.registry import get_format
from core.project.store import ProjectStore

MARKER = ".sonoclick-export"  # written last into every export; marks a folder an export may replace


@dataclass
class ExportReport:
    folder: Path
    formats: list[str]
    frames: int = 0  # frames written (the most any chosen format wrote)
    objects: int = 0
    skipped: list[str] = field(default_factory=list)  # "<format>: <what>: <why>"
    draft_masks: int = 0  # draft masks left out (not accepted)
    files: list[Path] = field(default_factory=list)

    def summary(self) -> dict:
        return {"frames": self.frames, "objects": self.objects, "skipped": self.skipped,
                "draft_masks": self.draft_masks, "formats": self.formats, "folder": str(self.folder)}


def _replaceable(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir() or target.is_symlink():
        raise InputError(target, "export target exists and is not a folder")
    if any(target.iterdir()) and not (target / MARKER).is_file():
        raise InputError(target, "folder is not empty and holds no earlier SonoClick export; choose an empty or new "
                                 "folder")


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename `staging` to `target`; an earlier export at `target` is moved aside first and deleted after."""
    if not target.exists():
        os.rename(staging, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.replace(target, aside)  # onto the empty folder mkdtemp made
    try:
        os.rename(staging, target)
    except OSError:
        os.replace(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def export_project(
    store: ProjectStore, out: str | Path, format_names: Sequence[str], include_drafts: bool = False
) -> ExportReport:
    """Write the project's annotations in every named format under `out` (created or replaced whole)."""
    chosen = [get_format(name) for name in dict.fromkeys(format_names)]
    if not chosen:
        raise InputError(Path(out), "no export format chosen")
    for fmt in chosen:
        if fmt.writer is None:
            raise InputError(Path(out), f"format {fmt.name!r} can only be imported")
    target = Path(os.path.abspath(out))
    _replaceable(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new.", dir=target.parent))
    except OSError as exc:
        raise InputError(target, f"cannot create the export folder ({exc.strerror or exc})") from exc
    report = ExportReport(target, [f.name for f in chosen])
    try:
        # measuring (the derived axes of every mask) costs a decode per mask: only for the formats that carry it
        collected = collect(store, include_drafts, measure=any(f.measures for f in chosen),
                            sparse=any(f.carries_sparse for f in chosen), tags=any(f.carries_tags for f in chosen))
        report.draft_masks = collected.draft_masks
        for fmt in chosen:
            frames, objects, skipped = fmt.writer(staging, carried_by(collected.annotations, fmt))
            report.frames, report.objects = max(report.frames, frames), max(report.objects, objects)
            report.skipped += [f"{fmt.name}: {line}" for line in skipped]
        (staging / MARKER).write_text(" ".join(report.formats) + "\n")
        os.chmod(staging, 0o755)  # mkdtemp made it private to the user
        report.files = sorted(target / p.relative_to(staging) for p in staging.rglob("*") if p.is_file())
        _move_into_place(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(target, f"export failed, nothing was changed ({exc.strerror or exc})") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report

