"""Faults against the project store and the app's headless path, for the fuzz suite and bench/robustness.py:
damaged databases, a writer killed with SIGKILL at a random point, a full disk (RLIMIT_FSIZE in a child), two
processes writing one project, imports and exports of fuzzed files, and a folder of bad files opened the way the
app opens one. Each returns an Outcome (see tests.fuzz_cases); `lost_edits` counts acknowledged edits missing after
the fault. POSIX only (fork)."""
from __future__ import annotations

import os
import resource
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from core.annotation.points import Calipers, Point, PointKind
from core.errors import SonoClickError
from core.project.records import MaskProvenance
from core.project.store import DB_NAME, ProjectStore
from tests.fuzz_cases import (
    FRAME_SIZE,
    Outcome,
    _cached,
    byte_mutation,
    check_frames,
    dicom_case,
    image_case,
    judged,
    point_json_case,
    rng_for,
    video_case,
)


def seed_project(workdir: Path) -> Path:
    """A project with two annotated 80x64 frames (a click, calipers, a mask, a prediction) and some history,
    closed (its WAL folded in)."""
    frames = workdir / "frames"
    frames.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    paths = []
    for k in range(2):
        paths.append(frames / f"frame{k}.png")
        cv2.imwrite(str(paths[-1]), rng.integers(0, 256, FRAME_SIZE, dtype=np.uint8))
    folder = workdir / "seed" / "project"
    with ProjectStore.create(folder) as store:
        for record in store.add_frames(paths):
            store.load_frame(record.id)
            store.add_point(record.id, Point(10.0, 10.0, PointKind.FOREGROUND, 0))
            store.set_calipers(record.id, 0, Calipers((10.0, 20.0), (40.0, 50.0), (25.0, 30.0), (27.0, 42.0)))
            mask = np.zeros(FRAME_SIZE, bool)
            mask[5:20, 5:30] = True
            store.set_mask(record.id, 0, mask, MaskProvenance.GENERATED)
            store.set_prediction(record.id, rng.random(FRAME_SIZE), "v1")
        store.undo()
        store.set_setting("gui.last_frame", 1)
    return folder


def project_copy(workdir: Path, name: str) -> Path:
    """A fresh copy of the seed project at the seed's depth (so its relative frame paths still resolve)."""
    seed = _cached(f"seed_project {workdir}", lambda: seed_project(workdir))
    folder = workdir / name / "project"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DB_NAME).write_bytes((seed / DB_NAME).read_bytes())
    return folder


def exercise(store: ProjectStore) -> None:
    """Everything the app reads from a project when it opens one and shows its frames."""
    store.frame_statuses()
    for record in store.frames():
        store.points(record.id)
        store.calipers(record.id)
        store.masks(record.id)
        store.mask(record.id)
        store.prediction(record.id)
        store.can_undo(record.id)
        if record.readable:
            store.load_frame(record.id)
    store.get_setting("gui.last_frame")


SQL_DAMAGE = (
    "UPDATE points SET x = 'abc'", "UPDATE points SET kind = 'zz'", "UPDATE masks SET png = randomblob(40)",
    "UPDATE masks SET png = x''", "UPDATE history SET before = randomblob(30)", "UPDATE history SET after = 'null'",
    "UPDATE frames SET width = -1", "UPDATE frames SET height = 'tall'", "UPDATE frames SET path = ''",
    "UPDATE predictions SET png = randomblob(50)", "UPDATE settings SET value = '{'", "DELETE FROM meta",
    "UPDATE meta SET value = 'x' WHERE key = 'schema_version'", "DROP TABLE masks", "UPDATE masks SET accepted = 7",
    "UPDATE points SET object_id = 'o'", "UPDATE history SET frame_id = 999",
)


def run_project_db(index: int, workdir: Path) -> Outcome:
    rng = rng_for("project_db", index)
    folder = project_copy(workdir, f"db_{index}")
    db = folder / DB_NAME
    if index % 3 == 0:
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA ignore_check_constraints = ON")
            for _ in range(int(rng.integers(1, 3))):
                try:
                    conn.execute(SQL_DAMAGE[int(rng.integers(0, len(SQL_DAMAGE)))])
                except sqlite3.Error:
                    pass
        conn.close()
    else:
        db.write_bytes(byte_mutation(db.read_bytes(), rng))

    def work() -> Outcome:
        with ProjectStore.open(folder) as store:
            exercise(store)
            if store.frames():
                store.undo()
                store.redo()
        return Outcome("ok")

    return judged(work)


# ------------------------------------------------------------------------------------ writers in child processes
def _child(work: Callable[[Callable[[str], None]], None], fsize: int | None = None) -> tuple[int, int]:
    """Fork a writer running work(ack); return (pid, read end of its ack pipe). ack(line) is sent only after the
    edit it names has returned (been acknowledged to the caller)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 0
        try:
            if fsize is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            work(lambda line: os.write(write_end, (line + "\n").encode()))
        except SonoClickError as exc:
            os.write(write_end, f"E clear {type(exc).__name__}: {exc}\n".encode())
        except BaseException as exc:  # noqa: BLE001 - reported to the parent as a crash
            os.write(write_end, f"E crash {type(exc).__name__}: {exc}\n".encode())
            code = 1
        os._exit(code)
    os.close(write_end)
    return pid, read_end


def _read_lines(fd: int, until: int | None = None) -> list[str]:
    """Ack lines from `fd`: all of them (until EOF), or stop once `until` have arrived."""
    buffer, lines = b"", []
    while until is None or len(lines) < until:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        lines.extend(line.decode() for line in complete)
    return lines


def _writer(folder: Path, frame_id: int, tag: int, count: int | None = None) -> Callable:
    """Edits of every kind the app makes; each acknowledged edit is named so it can be looked up afterwards."""

    def work(ack: Callable[[str], None]) -> None:
        with ProjectStore.open(folder) as store:
            k = 0
            while count is None or k < count:
                object_id = tag * 100_000 + k
                if k % 5 == 4:
                    mask = np.zeros(FRAME_SIZE, bool)
                    mask[k % 50 : k % 50 + 10, 3:30] = True
                    store.set_mask(frame_id, object_id, mask, MaskProvenance.PAINTED, accepted=k % 2 == 0)
                    ack(f"m {frame_id} {object_id}")
                elif k % 7 == 6:
                    store.set_setting(f"ack.{object_id}", k)
                    ack(f"s {frame_id} {object_id}")
                else:
                    pid = store.add_point(frame_id, Point(float(k % 80), float(k % 64), PointKind.FOREGROUND,
                                                          object_id))
                    ack(f"p {frame_id} {pid}")
                k += 1

    return work


def _missing(folder: Path, acks: list[str]) -> tuple[int, str]:
    """How many acknowledged edits ("kind frame name") the reopened project lacks, and whether its database is
    intact."""
    with sqlite3.connect(folder / DB_NAME) as conn:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
    conn.close()
    if check != "ok":
        return len(acks), f"database damaged after the fault: {check}"
    lost = 0
    with ProjectStore.open(folder) as store:
        for line in acks:
            kind, frame, name = line.split(" ")
            if kind == "p":
                lost += int(name) not in store.points(int(frame))
            elif kind == "m":
                lost += int(name) not in store.masks(int(frame))
            else:
                lost += store.get_setting(f"ack.{name}") is None
    return lost, ""


def run_kill9(index: int, workdir: Path) -> Outcome:
    """Kill a writer with SIGKILL after a random number of acknowledged edits: its next edit is cut at whatever
    point it had reached. Every acknowledged edit must be there after reopening."""
    rng = rng_for("kill9", index)
    folder = project_copy(workdir, f"kill_{index}")
    pid, fd = _child(_writer(folder, 1, 1))
    acks = _read_lines(fd, until=int(rng.integers(0, 40)))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    acks += _read_lines(fd)  # acknowledged before the kill landed
    os.close(fd)
    errors = [a for a in acks if a.startswith("E ")]
    acks = [a for a in acks if not a.startswith("E ")]
    lost, damage = _missing(folder, acks)
    if any(e.startswith("E crash") for e in errors):
        return Outcome("crash", errors[0], lost)
    return Outcome("wrong" if damage else "ok", damage, lost)


def run_disk_full(index: int, workdir: Path) -> Outcome:
    """A writer under a file-size limit keeps editing until the disk is 'full': the failing edit must raise a
    clear error and every acknowledged edit must survive."""
    rng = rng_for("disk_full", index)
    folder = project_copy(workdir, f"full_{index}")
    limit = (folder / DB_NAME).stat().st_size + int(rng.integers(4_000, 400_000))
    pid, fd = _child(_writer(folder, 1, 2, count=5_000), fsize=limit)
    lines = _read_lines(fd)
    os.close(fd)
    os.waitpid(pid, 0)
    errors = [a for a in lines if a.startswith("E ")]
    acks = [a for a in lines if not a.startswith("E ")]
    lost, damage = _missing(folder, acks)
    if any(e.startswith("E crash") for e in errors):
        return Outcome("crash", errors[0], lost)
    if damage:
        return Outcome("wrong", damage, lost)
    return Outcome("clear" if errors else "ok", errors[0][8:200] if errors else "limit never reached", lost)


def run_two_writers(index: int, workdir: Path) -> Outcome:
    """Two processes editing one project at once (two app instances): both may be refused while the other
    writes (a clear error), but nothing either acknowledged may be lost."""
    folder = project_copy(workdir, f"two_{index}")
    children = [_child(_writer(folder, 1 + k % 2, 3 + k, count=25)) for k in range(2)]
    lines = []
    for pid, fd in children:
        lines += _read_lines(fd)
        os.close(fd)
        os.waitpid(pid, 0)
    errors = [a for a in lines if a.startswith("E ")]
    lost, damage = _missing(folder, [a for a in lines if not a.startswith("E ")])
    if any(e.startswith("E crash") for e in errors):
        return Outcome("crash", errors[0], lost)
    if damage:
        return Outcome("wrong", damage, lost)
    return Outcome("clear" if errors else "ok", errors[0][8:200] if errors else "", lost)


# --------------------------------------------------------------------------------------------- import/export
EMPTY_FILE_REMOVED_CALIPERS = "a point file without point shapes removed the frame's calipers"


def _state(store: ProjectStore, frame_id: int) -> tuple:
    mask = store.mask(frame_id)
    return (store.points(frame_id), None if mask is None else mask.tobytes(), store.masks(frame_id),
            store.can_undo(frame_id))


def run_import_export(index: int, workdir: Path) -> Outcome:
    from core.exchange.export import export_project
    from core.exchange.file_exchange import import_mask, import_point_json
    from core.io.mask_files import read_mask
    from core.io.point_json import read_point_json

    rng = rng_for("import_export", index)
    folder = project_copy(workdir, f"ie_{index}")
    choice = index % 7
    with ProjectStore.open(folder) as store:
        frame_id = 1 + index % 2
        before = _state(store, frame_id)
        if choice < 3:
            source = point_json_case(index, workdir)
            work = lambda: import_point_json(store, frame_id, source)  # noqa: E731
        elif choice < 6:
            source = image_case(index, workdir)
            work = lambda: import_mask(store, frame_id, source, object_id=int(rng.integers(0, 3)))  # noqa: E731
        else:
            out = workdir / f"export_{index}"

            def work() -> Outcome:
                report = export_project(store, out, ["png", "points"], include_drafts=bool(index % 2))
                for path in report.files:
                    if path.parent.name == "masks" and read_mask(path).shape != FRAME_SIZE:
                        return Outcome("wrong", f"exported mask {path.name} is not the frame's size")
                    if path.parent.name == "labels":
                        read_point_json(path, FRAME_SIZE)
                return Outcome("ok")

        def judged_import() -> Outcome:
            result = work()
            return result if isinstance(result, Outcome) else Outcome("ok")

        outcome = judged(judged_import)
        after = _state(store, frame_id)
        if outcome.kind in ("clear", "crash") and after != before:
            return Outcome("wrong", f"a failed import changed the project ({outcome.detail})")
        if outcome.kind == "ok" and choice < 3 and not store.calipers(frame_id) and before[0] != after[0]:
            return Outcome("wrong", EMPTY_FILE_REMOVED_CALIPERS)
    return outcome


# ------------------------------------------------------------------------------------- the app on a bad folder
def bad_folder(index: int, workdir: Path) -> Path:
    rng = rng_for("app", index)
    folder = workdir / f"app_{index}"
    folder.mkdir()
    makers = (image_case, dicom_case, video_case, point_json_case)
    for k in range(int(rng.integers(3, 8))):
        source = makers[int(rng.integers(0, len(makers)))](index * 10 + k, workdir)
        os.replace(source, folder / f"f{k}{source.suffix}")
    special = index % 6
    if special == 0 and hasattr(os, "mkfifo"):
        os.mkfifo(folder / "x.png")
    elif special == 1:
        (folder / "d.png").mkdir()
    elif special == 2:
        (folder / "e.dcm").write_bytes(b"")
    elif special == 3:
        os.symlink("loop.png", folder / "loop.png")
    elif special == 4 and os.path.exists("/dev/zero"):
        os.symlink("/dev/zero", folder / "zero.png")
    else:
        (folder / "noext").write_bytes(b"\x00" * 128 + b"DICM" + b"\xff" * 64)
    return folder


def run_app_folder(index: int, workdir: Path) -> Outcome:
    """The app's open path, headless: list the folder's frame files as the app does, add them to a new project,
    then show every frame (load and convert it to gray)."""
    from core.project.location import list_frame_files

    folder = bad_folder(index, workdir)

    def work() -> Outcome:
        with ProjectStore.create(folder / ".sonoclick") as store:
            files = list_frame_files(folder)
            records = store.add_frames(files)
            if len({r.path for r in records}) != len(files):
                return Outcome("wrong", "a listed file has no record")
            for record in records:
                if not record.readable:
                    continue
                frame = store.load_frame(record.id)
                if (frame.height, frame.width) != (record.height, record.width):
                    return Outcome("wrong", f"{record.path}: frame size differs from its record")
                outcome = check_frames([frame])
                if outcome.kind != "ok":
                    return outcome
                frame.gray_u8()
        return Outcome("ok")

    return judged(work)
