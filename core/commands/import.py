"""`python -m core import --project P --format FMT --input PATH`: bring annotations into a project (created when
it does not exist; images are referenced where they are). Everything is checked first and the change previewed;
then it is applied in one transaction, or with --dry-run not at all. Last stdout line: JSON with frames, objects,
skipped."""
from __future__ import annotations

import argparse
from pathlib import Path

from core.exchange.importing import apply_import, plan_import
from core.exchange.registry import formats
from core.project.store import DB_NAME, ProjectStore


def add_arguments(p: argparse.ArgumentParser) -> None:
    readable = [name for name, f in formats().items() if f.reader is not None]
    p.add_argument("--project", required=True, type=Path, help="project folder (created if it holds no project)")
    p.add_argument("--format", required=True, choices=readable)
    p.add_argument("--input", required=True, type=Path, help="the file or folder to import")
    p.add_argument("--sources", type=Path, help="DICOM-SEG: folder searched for the referenced source DICOM files")
    p.add_argument("--dry-run", action="store_true", help="check and preview only; change nothing")


def run(args: argparse.Namespace) -> dict:
    created = not (args.project / DB_NAME).is_file()
    folder_was_there = args.project.exists()
    store = ProjectStore.create(args.project) if created else ProjectStore.open(args.project)
    try:
        plan = plan_import(store, args.format, args.input, args.sources)
        for line in plan.preview():
            print(line)
        if not args.dry_run:
            apply_import(store, plan)
    except BaseException:
        store.close()
        if created:  # a failed import leaves no empty project behind
            for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
                (args.project / name).unlink(missing_ok=True)
            if not folder_was_there and not any(args.project.iterdir()):
                args.project.rmdir()
        raise
    store.close()
    return {**plan.summary(), "applied": not args.dry_run, "project_created": created}
