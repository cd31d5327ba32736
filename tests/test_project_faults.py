"""Issue 15, finding 3 (the core half): a project that cannot be written opens read-only instead of being replaced,
and a full disk, permission denied and a damaged database each raise their own ProjectError with its own message;
a backup copy is made through SQLite's backup API."""
from __future__ import annotations

import os
import resource
import signal
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.points import Calipers
from core.errors import ProjectCorrupt, ProjectDiskFull, ProjectError, ProjectPermissionDenied, ProjectReadOnly
from core.exchange.export import export_project
from core.project.records import MaskProvenance
from core.project.store import DB_NAME, ProjectStore
from core.training.synthetic import make_frame

NODULE = Calipers((10.0, 20.0), (40.0, 50.0), (25.0, 30.0), (27.0, 42.0))
NOBODY = 65534


def make_project(folder: Path) -> int:
    """A project with one annotated frame (calipers and an accepted mask); returns the frame id."""
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "scan.png"), make_frame(1, (64, 80)).image)
    with ProjectStore.create(folder / "project") as store:
        (record,) = store.add_frames([folder / "scan.png"])
        store.set_calipers(record.id, 0, NODULE)
        mask = np.zeros((64, 80), bool)
        mask[20:40, 10:50] = True
        store.set_mask(record.id, 0, mask, MaskProvenance.GENERATED)
        return record.id


def in_child(work: Callable[[], str], drop_to: int | None = None, fsize: int | None = None) -> str:
    """Run `work` in a forked child (optionally as another user, or under a file-size limit) and return the
    string it produced, or 'raised <type>: <message>'."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read_end)
        try:
            if drop_to is not None:
                os.setgid(drop_to)
                os.setuid(drop_to)
            if fsize is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
                resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            result = work()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            result = f"raised {type(exc).__name__}: {exc}"
        os.write(write_end, result.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        out = f.read().decode()
    os.waitpid(pid, 0)
    return out


def test_read_only_open_views_and_exports_but_refuses_edits(tmp_path: Path) -> None:
    frame_id = make_project(tmp_path)
    with ProjectStore.open(tmp_path / "project", read_only=True) as store:
        assert store.read_only_reason == "opened read-only"
        assert store.calipers(frame_id) == {0: NODULE} and store.mask(frame_id).sum() == 800
        assert store.load_frame(frame_id).pixels.shape == (64, 80)
        with pytest.raises(ProjectReadOnly, match="open read-only"):
            store.set_calipers(frame_id, 1, NODULE)
        with pytest.raises(ProjectReadOnly):
            store.set_setting("x", 1)
        report = export_project(store, tmp_path / "export", ["png", "points"])
        names = sorted(f.relative_to(tmp_path / "export").parts[0] for f in report.files)
        assert names.count("masks") == 1 and names.count("labels") == 1
    with ProjectStore.open(tmp_path / "project") as store:  # nothing changed, still writable as before
        assert store.calipers(frame_id) == {0: NODULE} and store.read_only_reason is None


def test_backup_copy_is_a_complete_project(tmp_path: Path) -> None:
    frame_id = make_project(tmp_path)
    with ProjectStore.open(tmp_path / "project") as store:
        backup = store.backup_to(tmp_path / "backup" / DB_NAME)
    assert sorted(p.name for p in backup.parent.iterdir()) == [DB_NAME]
    with ProjectStore.open(backup.parent, read_only=True) as copy:
        assert copy.calipers(frame_id) == {0: NODULE} and copy.mask(frame_id).sum() == 800


def test_a_damaged_database_raises_project_corrupt(tmp_path: Path) -> None:
    make_project(tmp_path)
    db = tmp_path / "project" / DB_NAME
    data = bytearray(db.read_bytes())
    for i in range(4096, len(data), 7):  # every page after the header
        data[i] ^= 0x5A
    db.write_bytes(bytes(data))
    with pytest.raises(ProjectCorrupt, match="damaged"):
        with ProjectStore.open(tmp_path / "project") as store:
            store.frames()


def test_a_full_disk_raises_project_disk_full_and_keeps_committed_edits(tmp_path: Path) -> None:
    frame_id = make_project(tmp_path)
    size = (tmp_path / "project" / DB_NAME).stat().st_size

    def fill() -> str:
        with ProjectStore.open(tmp_path / "project") as store:
            for k in range(10_000):
                store.set_setting(f"filler.{k}", "x" * 4000)
        return "never full"

    outcome = in_child(fill, fsize=size + 200_000)
    assert outcome.startswith("raised ProjectDiskFull") and "the disk is full" in outcome
    with ProjectStore.open(tmp_path / "project") as store:
        assert store.calipers(frame_id) == {0: NODULE}
        assert store.get_setting("filler.0") == "x" * 4000  # edits acknowledged before the disk filled stay


@pytest.mark.skipif(not hasattr(os, "fork") or os.name != "posix", reason="needs fork and POSIX permissions")
@pytest.mark.parametrize("writer_open", [False, True])
def test_a_read_only_folder_is_refused_for_writing_and_opens_read_only(writer_open: bool) -> None:
    # Permissions are checked as an unprivileged user: root would ignore them. A plain temporary folder (not
    # tmp_path, whose parents only root can enter) that the other user can read.
    base = Path(tempfile.mkdtemp(prefix="sonoclick-ro-"))
    try:
        frame_id = make_project(base)
        writer = ProjectStore.open(base / "project") if writer_open else None
        if writer is not None:
            writer.set_setting("late edit", 1)  # committed, and still in the write-ahead log
        os.chmod(base, 0o755)
        for p in base.rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(base / "project", 0o555)
        user = NOBODY if os.geteuid() == 0 else None

        def writable_open() -> str:
            ProjectStore.open(base / "project").set_setting("y", 1)
            return "opened writable"

        def read_only_open() -> str:
            with ProjectStore.open(base / "project", read_only=True) as store:
                return f"{store.calipers(frame_id) == {0: NODULE}} {store.get_setting('late edit')}"

        refused = in_child(writable_open, drop_to=user)
        assert refused.startswith("raised ProjectPermissionDenied") and "open the project read-only" in refused
        assert in_child(read_only_open, drop_to=user) == f"True {1 if writer_open else None}"
        if writer is not None:
            writer.close()
        assert sorted(p.name for p in (base / "project").iterdir())[0] == DB_NAME  # no second project made
    finally:
        os.chmod(base / "project", 0o755)
        for p in sorted(base.rglob("*"), reverse=True):
            p.unlink() if not p.is_dir() else p.rmdir()
        base.rmdir()


def test_errors_are_project_errors_with_distinct_classes() -> None:
    classes = {ProjectDiskFull, ProjectPermissionDenied, ProjectCorrupt, ProjectReadOnly}
    assert all(issubclass(c, ProjectError) for c in classes) and len(classes) == 4


def test_sqlite_error_codes_are_classified(tmp_path: Path) -> None:
    from core.project.db import classify

    def error(code: int) -> sqlite3.Error:
        exc = sqlite3.OperationalError("x")
        exc.sqlite_errorcode = code
        return exc

    db = tmp_path / DB_NAME
    assert isinstance(classify(error(sqlite3.SQLITE_FULL), db, "writing"), ProjectDiskFull)
    assert isinstance(classify(error(sqlite3.SQLITE_READONLY), db, "writing"), ProjectPermissionDenied)
    assert isinstance(classify(error(sqlite3.SQLITE_CORRUPT), db, "reading"), ProjectCorrupt)
    assert type(classify(error(sqlite3.SQLITE_BUSY), db, "writing")) is ProjectError


@pytest.mark.parametrize(("damage", "reader"), [
    ("UPDATE masks SET png = x''", lambda s, f: s.mask(f)),
    ("UPDATE masks SET png = randomblob(40)", lambda s, f: s.mask(f)),
    ("UPDATE points SET kind = 'zz'", lambda s, f: s.points(f)),
    ("UPDATE masks SET provenance = 'zz'", lambda s, f: s.masks(f)),
    ("UPDATE history_points SET before = randomblob(30), after = randomblob(30)", lambda s, f: (s.undo(f), s.undo(f))),
    ("UPDATE history_masks SET before = randomblob(30), after = randomblob(30)", lambda s, f: s.undo(f)),
    ("UPDATE settings SET value = '{'", lambda s, f: s.get_setting("gui.last")),
])
def test_damaged_rows_raise_project_corrupt(tmp_path: Path, damage: str, reader) -> None:
    frame_id = make_project(tmp_path)
    with ProjectStore.open(tmp_path / "project") as store:
        store.set_setting("gui.last", 1)
    with sqlite3.connect(tmp_path / "project" / DB_NAME) as conn:
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute(damage)
    conn.close()
    with ProjectStore.open(tmp_path / "project") as store:
        with pytest.raises(ProjectCorrupt, match="damaged"):
            reader(store, frame_id)
        assert "points" in damage or store.calipers(frame_id) == {0: NODULE}  # the rest stays readable


def test_text_that_is_not_utf8_in_the_database_is_project_corrupt(tmp_path: Path) -> None:
    make_project(tmp_path)
    with sqlite3.connect(tmp_path / "project" / DB_NAME) as conn:
        conn.execute("UPDATE meta SET value = CAST(x'ff' AS TEXT) WHERE key = 'app'")
    conn.close()
    with pytest.raises(ProjectCorrupt, match="damaged"):
        ProjectStore.open(tmp_path / "project")
