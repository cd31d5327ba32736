"""`python -m core export --project P --format FMT --out DIR`: write a project's accepted annotations in one or
more formats (comma-separated), all or nothing. Last stdout line: JSON with frames, objects, skipped."""
from __future__ import annotations

import argparse
from pathlib import Path

from core.exchange.export import export_project
from core.exchange.registry import formats
from core.project.store import ProjectStore


def add_arguments(p: argparse.ArgumentParser) -> None:
    writable = [name for name, f in formats().items() if f.writer is not None]
    p.add_argument("--project", required=True, type=Path, help="project folder (holds sonoclick.sqlite)")
    p.add_argument("--format", required=True, help=f"one or more of {', '.join(writable)}, comma-separated")
    p.add_argument("--out", required=True, type=Path, help="export folder (new, empty or an earlier export)")
    p.add_argument("--include-drafts", action="store_true", help="write draft masks too (default: accepted only)")


def run(args: argparse.Namespace) -> dict:
    names = [n.strip() for n in args.format.split(",") if n.strip()]
    with ProjectStore.open(args.project) as store:
        report = export_project(store, args.out, names, include_drafts=args.include_drafts)
    for line in report.skipped:
        print(f"skipped {line}")
    return report.summary()
