"""The project store: round trip, reopen, undo/redo, crash safety, version checks, threads."""
from __future__ import annotations

import hashlib
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.points import Calipers, Point, PointKind
from core.errors import AnnotationFormatError, FrameReadError, ProjectError
from core.project.frame_rows import Delta, load_state
from core.project.frame_state import FrameState
from core.project.history import load_delta
from core.project.records import FrameStatus, MaskProvenance
from core.project.schema import SCHEMA_VERSION
from core.project.store import DB_NAME, ProjectStore
from core.training.synthetic import make_frame
from tests.conftest import write_dicom

REPO = Path(__file__).resolve().parents[1]
CALIPERS = Calipers((10.0, 20.0), (50.0, 40.0), (30.0, 20.0), (28.0, 42.0))


@pytest.fixture
def images(tmp_path: Path) -> Path:
    d = tmp_path / "images"
    d.mkdir()
    cv2.imwrite(str(d / "a.png"), make_frame(1, (64, 80)).image)
    cv2.imwrite(str(d / "b.png"), make_frame(2, (64, 80)).image)
    write_dicom(d / "cine.dcm", np.zeros((3, 32, 40), np.uint8), PixelSpacing=[0.2, 0.1])
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return d


@pytest.fixture
def store(tmp_path: Path, images: Path):
    s = ProjectStore.create(tmp_path / "project")
    s.add_frames([images / "a.png", images / "b.png"])
    yield s
    s.close()


def _disk_state(store: ProjectStore, frame_id: int) -> tuple:
    masks = store.mask(frame_id)
    return store.points(frame_id), None if masks is None else masks.tobytes(), store.can_undo(), store.can_redo()


def test_add_frames_records_paths_sizes_spacing_and_errors(tmp_path: Path, images: Path) -> None:
    folder = tmp_path / "project"
    with ProjectStore.create(folder) as s:
        paths = [images / "a.png", images / "cine.dcm", images / "broken.png", images / "a.png"]
        records = s.add_frames(paths)
        assert [(r.path, r.index) for r in records] == [
            ("../images/a.png", 0),
            ("../images/cine.dcm", 0),
            ("../images/cine.dcm", 1),
            ("../images/cine.dcm", 2),
            ("../images/broken.png", 0),
            ("../images/a.png", 0),  # already there: the same record, not a new one
        ]
        assert len(s.frames()) == 5
        a, cine = records[0], records[2]
        assert (a.width, a.height, a.spacing_mm, a.error) == (80, 64, None, None)
        assert (cine.width, cine.height, cine.spacing_mm) == (40, 32, (0.2, 0.1))
        assert records[4].error and "corrupt" in records[4].error and not records[4].readable
        assert s.frame_status(records[4].id) == FrameStatus.UNREADABLE
        with pytest.raises(FrameReadError):
            s.load_frame(records[4].id)
        np.testing.assert_array_equal(s.load_frame(a.id).pixels, cv2.imread(str(images / "a.png"), 0))
        assert s.load_frame(records[3].id).index == 2
    assert sorted(p.name for p in folder.iterdir()) == [DB_NAME]  # nothing copied into the project


def test_relative_paths_survive_moving_project_with_images(tmp_path: Path, store: ProjectStore) -> None:
    store.add_point(1, Point(3, 4, PointKind.FOREGROUND))
    store.close()
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    shutil.copytree(tmp_path, moved)
    with ProjectStore.open(moved / "project") as s:
        assert s.frame(1).source == moved / "images" / "a.png"
        assert s.load_frame(1).width == 80
        assert list(s.points(1).values()) == [Point(3, 4, PointKind.FOREGROUND)]


def test_round_trip_and_reopen(tmp_path: Path, store: ProjectStore) -> None:
    frame = make_frame(1, (64, 80))
    pid = store.add_point(1, Point(5, 6, PointKind.FOREGROUND))
    store.move_point(pid, 7.5, 8.25)
    store.add_point(1, Point(9, 9, PointKind.BACKGROUND, object_id=1))
    store.set_calipers(1, 0, CALIPERS)
    store.set_mask(1, 0, frame.mask, MaskProvenance.REFINED)
    store.set_prediction(2, np.linspace(0, 1, 64 * 80).reshape(64, 80), "unet-v3")
    store.set_setting("brush", {"radius": 7})
    store.close()

    with ProjectStore.open(tmp_path / "project") as s:
        points = s.points(1)
        assert points[pid] == Point(7.5, 8.25, PointKind.FOREGROUND)
        assert len(points) == 6
        assert s.calipers(1) == {0: CALIPERS}
        np.testing.assert_array_equal(s.mask(1, 0), frame.mask)
        assert s.masks(1)[0].provenance == MaskProvenance.REFINED
        assert s.mask(2) is None and s.mask(1, 5) is None
        prediction = s.prediction(2)
        assert prediction.model_version == "unet-v3"
        assert np.abs(prediction.probability - np.linspace(0, 1, 64 * 80).reshape(64, 80)).max() <= 0.5 / 255 + 1e-6
        assert s.get_setting("brush") == {"radius": 7} and s.get_setting("missing", 3) == 3
        assert s.frame_statuses() == {1: FrameStatus.MASK_ACCEPTED, 2: FrameStatus.PREDICTED_ONLY}
        assert [r.id for r in s.accepted_frames()] == [1]


def test_frame_status_follows_annotations(store: ProjectStore) -> None:
    assert store.frame_status(1) == FrameStatus.UNLABELLED
    store.add_point(1, Point(5, 6, PointKind.LONG_1))
    assert store.frame_status(1) == FrameStatus.UNLABELLED  # an incomplete caliper set is not a label
    store.set_calipers(1, 0, CALIPERS)
    assert store.frame_status(1) == FrameStatus.CALIPERS
    store.set_mask(1, 0, np.ones((64, 80), bool), "painted")
    assert store.frame_status(1) == FrameStatus.MASK_ACCEPTED
    store.clear_object(1, 0)
    assert store.frame_status(1) == FrameStatus.UNLABELLED and store.points(1) == {} and store.mask(1) is None


def test_set_calipers_replaces_only_that_objects_calipers(store: ProjectStore) -> None:
    click = store.add_point(1, Point(1, 1, PointKind.FOREGROUND))
    store.set_calipers(1, 0, CALIPERS)
    store.set_calipers(1, 1, CALIPERS)
    moved = Calipers.from_array(CALIPERS.as_array() + 1)
    store.set_calipers(1, 0, moved)
    assert store.calipers(1) == {0: moved, 1: CALIPERS}
    assert click in store.points(1) and len(store.points(1)) == 9


def test_union_mask_of_several_objects(store: ProjectStore) -> None:
    left, right = np.zeros((64, 80), bool), np.zeros((64, 80), bool)
    left[10:20, 5:15], right[30:40, 50:70] = True, True
    store.set_mask(1, 0, left, "generated")
    store.set_mask(1, 3, right, "painted")
    np.testing.assert_array_equal(store.mask(1), left | right)
    np.testing.assert_array_equal(store.mask(1, 3), right)
    assert set(store.masks(1)) == {0, 3}


def test_undo_restores_exact_previous_mask_and_redo_reapplies(store: ProjectStore) -> None:
    first, second = make_frame(3, (64, 80)).mask, make_frame(4, (64, 80)).mask
    assert not (first == second).all()
    store.set_mask(1, 0, first, "generated")
    created = store.masks(1)[0].created_at
    store.set_mask(1, 0, second, "refined")
    assert store.undo() == 1
    np.testing.assert_array_equal(store.mask(1, 0), first)
    assert store.masks(1)[0].provenance == MaskProvenance.GENERATED and store.masks(1)[0].created_at == created
    assert store.undo() == 1
    assert store.mask(1) is None and not store.can_undo() and store.undo() is None
    assert store.redo() == 1 and store.redo() == 1
    np.testing.assert_array_equal(store.mask(1, 0), second)
    assert not store.can_redo() and store.redo() is None


def test_undo_of_points_keeps_ids(store: ProjectStore) -> None:
    pid = store.add_point(1, Point(5, 6, PointKind.FOREGROUND))
    store.move_point(pid, 20, 30)
    store.delete_point(pid)
    assert store.points(1) == {}
    store.undo()
    assert store.points(1) == {pid: Point(20, 30, PointKind.FOREGROUND)}
    store.move_point(pid, 1, 2)  # the restored id is usable again
    store.undo()
    store.undo()
    assert store.points(1) == {pid: Point(5, 6, PointKind.FOREGROUND)}


def test_new_edit_after_undo_drops_redo_tail(store: ProjectStore) -> None:
    store.add_point(1, Point(1, 1, PointKind.FOREGROUND))
    store.add_point(1, Point(2, 2, PointKind.FOREGROUND))
    store.undo(1)
    assert store.can_redo(1)
    store.add_point(1, Point(3, 3, PointKind.BACKGROUND))
    assert not store.can_redo(1) and store.redo(1) is None
    assert [(p.x, p.kind) for p in store.points(1).values()] == [(1, PointKind.FOREGROUND), (3, PointKind.BACKGROUND)]


def test_undo_per_frame_and_global_order(store: ProjectStore) -> None:
    store.add_point(1, Point(1, 1, PointKind.FOREGROUND))
    store.add_point(2, Point(2, 2, PointKind.FOREGROUND))
    store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
    assert store.undo(2) == 2 and store.points(2) == {}
    assert len(store.points(1)) == 2
    assert store.undo() == 1 and len(store.points(1)) == 1  # latest remaining edit overall
    assert store.redo() == 1 and store.redo() == 2  # most recently undone first
    assert len(store.points(1)) == 2 and len(store.points(2)) == 1


def test_history_survives_reopening(tmp_path: Path, store: ProjectStore) -> None:
    store.set_mask(1, 0, np.ones((64, 80), bool), "painted")
    store.set_mask(1, 0, np.zeros((64, 80), bool), "painted")
    store.undo()
    store.close()
    with ProjectStore.open(tmp_path / "project") as s:
        assert s.can_undo(1) and s.can_redo(1)
        assert s.mask(1, 0).all()
        s.redo()
        assert not s.mask(1, 0).any()


@pytest.mark.parametrize("bad", [Point(80.5, 3, PointKind.FOREGROUND), Point(-1, 3, PointKind.LONG_1),
                                 Point(3, float("nan"), PointKind.BACKGROUND)])
def test_point_outside_frame_is_rejected_and_nothing_written(store: ProjectStore, bad: Point) -> None:
    pid = store.add_point(1, Point(5, 5, PointKind.FOREGROUND))
    before = _disk_state(store, 1)
    with pytest.raises(AnnotationFormatError, match="outside") as err:
        store.add_point(1, bad)
    assert "a.png" in str(err.value)
    with pytest.raises(AnnotationFormatError):
        store.move_point(pid, bad.x, bad.y)
    with pytest.raises(AnnotationFormatError):
        store.set_calipers(1, 0, Calipers((1, 1), (bad.x, bad.y), (2, 2), (3, 3)))
    assert _disk_state(store, 1) == before


def test_mask_of_wrong_size_is_rejected(store: ProjectStore) -> None:
    with pytest.raises(AnnotationFormatError, match="64x80"):
        store.set_mask(1, 0, np.ones((80, 64), bool), "painted")
    assert store.mask(1) is None and not store.can_undo()


def test_unknown_ids_raise_key_error(store: ProjectStore) -> None:
    with pytest.raises(KeyError):
        store.frame(99)
    with pytest.raises(KeyError):
        store.add_point(99, Point(1, 1, PointKind.FOREGROUND))
    with pytest.raises(KeyError):
        store.move_point(12345, 1, 1)


def test_content_hash_is_sha1_of_the_file(store: ProjectStore, images: Path) -> None:
    assert store.frame(1).content_hash is None
    expected = hashlib.sha1((images / "a.png").read_bytes()).hexdigest()
    assert store.content_hash(1) == expected and store.frame(1).content_hash == expected


def test_create_and_open_refuse_what_is_not_a_fresh_or_valid_project(tmp_path: Path, store: ProjectStore) -> None:
    with pytest.raises(ProjectError, match="already holds"):
        ProjectStore.create(tmp_path / "project")
    with pytest.raises(ProjectError, match="no SonoClick project"):
        ProjectStore.open(tmp_path / "elsewhere")

    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / DB_NAME).write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(ProjectError, match="not a SonoClick project"):
        ProjectStore.open(junk)

    other = tmp_path / "other"
    other.mkdir()
    with sqlite3.connect(other / DB_NAME) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(ProjectError, match="not a SonoClick project"):
        ProjectStore.open(other)


def test_newer_schema_is_refused(tmp_path: Path, store: ProjectStore) -> None:
    store.close()
    with sqlite3.connect(tmp_path / "project" / DB_NAME) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(ProjectError, match="newer SonoClick"):
        ProjectStore.open(tmp_path / "project")


# the masks table and history snapshots as schema 1 wrote them (no accepted flag)
V1_MASKS = """CREATE TABLE masks (
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    object_id INTEGER NOT NULL,
    png BLOB NOT NULL,
    provenance TEXT NOT NULL CHECK (provenance IN ('generated', 'refined', 'painted')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (frame_id, object_id)
)"""


V2_HISTORY = """CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    before BLOB NOT NULL,
    after BLOB NOT NULL,
    undone_seq INTEGER,
    created_at TEXT NOT NULL
)"""


def _with_delta(state: FrameState, delta: Delta, undo: bool) -> FrameState:
    points, masks = dict(state.points), {m.object_id: m for m in state.masks}
    for pid, change in delta.points.items():
        points[pid] = change[0] if undo else change[1]
    for oid, mask_change in delta.masks.items():
        masks[oid] = mask_change[0] if undo else mask_change[1]
    return FrameState(tuple(sorted((pid, p) for pid, p in points.items() if p is not None)),
                      tuple(sorted((m for m in masks.values() if m is not None), key=lambda m: m.object_id)))


def _downgrade_to_v2(folder: Path) -> None:
    """Turn a closed project into what schema 2 wrote: every history step as full snapshots of its frame before
    and after, rebuilt from the deltas by walking back (done steps) and forward (undone steps) from the present."""
    with closing(sqlite3.connect(folder / DB_NAME)) as conn, conn:
        rows = []
        for (frame_id,) in conn.execute("SELECT DISTINCT frame_id FROM history").fetchall():
            steps = conn.execute("SELECT id, action, undone_seq, created_at FROM history WHERE frame_id = ?"
                                 " ORDER BY id", (frame_id,)).fetchall()
            state = load_state(conn, frame_id)
            for step in reversed([s for s in steps if s[2] is None]):
                before = _with_delta(state, load_delta(conn, step[0]), undo=True)
                rows.append((step[0], frame_id, step[1], before.to_bytes(), state.to_bytes(), *step[2:]))
                state = before
            state = load_state(conn, frame_id)
            for step in [s for s in steps if s[2] is not None]:
                after = _with_delta(state, load_delta(conn, step[0]), undo=False)
                rows.append((step[0], frame_id, step[1], state.to_bytes(), after.to_bytes(), *step[2:]))
                state = after
        for table in ("history_points", "history_masks", "history"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute(V2_HISTORY)
        conn.execute("CREATE INDEX history_by_frame ON history (frame_id, id)")
        conn.executemany("INSERT INTO history (id, frame_id, action, before, after, undone_seq, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def _downgrade_to_v1(folder: Path) -> None:
    """Turn a closed project into what schema 1 wrote: its masks table and history snapshots without the flag."""
    _downgrade_to_v2(folder)
    with sqlite3.connect(folder / DB_NAME) as conn:
        conn.execute("ALTER TABLE masks RENAME TO masks_v2")
        conn.execute(V1_MASKS)
        conn.execute("INSERT INTO masks SELECT frame_id, object_id, png, provenance, created_at FROM masks_v2")
        conn.execute("DROP TABLE masks_v2")
        for step, *states in conn.execute("SELECT id, before, after FROM history").fetchall():
            docs = [json.loads(state) for state in states]
            for doc in docs:
                doc["masks"] = [m[:4] for m in doc["masks"]]
            conn.execute("UPDATE history SET before = ?, after = ? WHERE id = ?",
                         (*(json.dumps(d).encode() for d in docs), step))
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with sqlite3.connect(folder / DB_NAME) as conn:
        assert "accepted" not in [row[1] for row in conn.execute("PRAGMA table_info(masks)")]


def _schema_version(folder: Path) -> str:
    with sqlite3.connect(folder / DB_NAME) as conn:
        return conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]


def test_v1_project_is_migrated_in_place_and_its_masks_stay_accepted(tmp_path: Path, store: ProjectStore) -> None:
    first, second = np.zeros((64, 80), bool), np.zeros((64, 80), bool)
    first[10:20, 10:30] = True
    second[30:40, 5:15] = True
    store.set_calipers(1, 0, CALIPERS)
    store.set_mask(1, 0, first, "refined")
    store.set_mask(1, 0, second, "painted")
    store.set_mask(2, 3, first, "generated")
    records = {fid: store.masks(fid) for fid in (1, 2)}
    store.close()
    folder = tmp_path / "project"
    _downgrade_to_v1(folder)

    with ProjectStore.open(folder) as s:
        assert _schema_version(folder) == str(SCHEMA_VERSION)
        assert {fid: s.masks(fid) for fid in (1, 2)} == records
        assert all(m.accepted for fid in (1, 2) for m in s.masks(fid).values())
        assert s.frame_statuses() == {1: FrameStatus.MASK_ACCEPTED, 2: FrameStatus.MASK_ACCEPTED}
        assert [r.id for r in s.accepted_frames()] == [1, 2] and s.draft_frames() == []
        np.testing.assert_array_equal(s.mask(1, accepted_only=True), second)
        # history written by schema 1 still undoes and redoes, its masks accepted
        assert s.undo(1) == 1
        assert s.masks(1)[0].accepted and s.masks(1)[0].provenance == MaskProvenance.REFINED
        np.testing.assert_array_equal(s.mask(1, 0), first)
        assert s.redo(1) == 1 and s.masks(1) == records[1]
        # a new edit works on the migrated table
        s.set_mask(1, 0, first, "painted", accepted=False)
        assert s.frame_status(1) == FrameStatus.CALIPERS
    with ProjectStore.open(folder) as s:  # opening again migrates nothing more
        assert _schema_version(folder) == str(SCHEMA_VERSION) and not s.masks(1)[0].accepted


def test_v1_draft_bookkeeping_of_the_app_becomes_the_flag(tmp_path: Path, store: ProjectStore) -> None:
    mask = np.ones((64, 80), bool)
    store.set_mask(1, 0, mask, "refined")  # the app's draft
    draft = store.masks(1)[0]
    store.set_mask(1, 0, mask, "refined")  # accepted with Enter (schema 1 rewrote the mask)
    accepted = store.masks(1)[0]
    store.set_mask(2, 0, mask, "painted")  # an import: never a draft
    store.set_setting("gui.draft_masks.1", {"0": [draft.created_at]})
    store.set_setting("gui.last_frame", 1)
    store.close()
    folder = tmp_path / "project"
    _downgrade_to_v1(folder)

    with ProjectStore.open(folder) as s:
        assert s.masks(1)[0] == accepted and s.masks(2)[0].accepted
        assert s.get_setting("gui.draft_masks.1") is None and s.get_setting("gui.last_frame") == 1
        s.undo(1)  # back to the draft, as the app showed it
        assert s.masks(1)[0] == replace(draft, accepted=False)
        assert s.frame_status(1) == FrameStatus.CALIPERS and s.mask(1, accepted_only=True) is None
        s.redo(1)
        assert s.masks(1)[0] == accepted and s.frame_status(1) == FrameStatus.MASK_ACCEPTED


def test_draft_masks_are_not_accepted(store: ProjectStore) -> None:
    left, right = np.zeros((64, 80), bool), np.zeros((64, 80), bool)
    left[:, :40] = True
    right[:, 40:] = True
    store.set_mask(1, 0, left, "refined", accepted=False)
    assert not store.masks(1)[0].accepted
    # a lone draft: work begun, nothing accepted (CALIPERS, see core.project.status), calipers or not
    assert store.frame_status(1) == FrameStatus.CALIPERS
    store.set_prediction(1, np.ones((64, 80)), "unet")
    assert store.frame_status(1) == FrameStatus.CALIPERS  # a human draft outranks the model's prediction
    assert store.accepted_frames() == [] and [r.id for r in store.draft_frames()] == [1]
    np.testing.assert_array_equal(store.mask(1), left)  # drafts are returned unless asked otherwise
    assert store.mask(1, accepted_only=True) is None and store.mask(1, 0, accepted_only=True) is None

    store.set_mask(1, 1, right, "painted")  # accepted by default
    assert store.frame_status(1) == FrameStatus.MASK_ACCEPTED
    assert [r.id for r in store.accepted_frames()] == [1] and [r.id for r in store.draft_frames()] == [1]
    assert store.mask(1).all()
    np.testing.assert_array_equal(store.mask(1, accepted_only=True), right)

    store.delete_mask(1, 1)
    store.set_calipers(1, 0, CALIPERS)
    assert store.frame_status(1) == FrameStatus.CALIPERS
    store.accept_mask(1, 0)
    assert store.frame_status(1) == FrameStatus.MASK_ACCEPTED and store.draft_frames() == []


def test_accept_is_one_undoable_edit_restored_exactly(tmp_path: Path, store: ProjectStore) -> None:
    mask = make_frame(1, (64, 80)).mask
    store.set_calipers(1, 0, CALIPERS)
    store.set_mask(1, 0, mask, MaskProvenance.REFINED, accepted=False)
    draft, points = store.masks(1), store.points(1)
    draft_png = _stored_masks(tmp_path)

    store.accept_mask(1, 0)
    accepted = store.masks(1)
    assert accepted[0].accepted and accepted[0].created_at == draft[0].created_at
    assert accepted[0].provenance == MaskProvenance.REFINED
    np.testing.assert_array_equal(store.mask(1, 0, accepted_only=True), mask)
    store.accept_mask(1, 0)  # accepted already: no second history step (one undo brings the draft back)
    store.undo(1)
    assert store.masks(1) == draft and store.points(1) == points and _stored_masks(tmp_path) == draft_png
    assert store.frame_status(1) == FrameStatus.CALIPERS
    assert store.can_redo(1)
    store.redo(1)
    assert store.masks(1) == accepted and store.frame_status(1) == FrameStatus.MASK_ACCEPTED
    store.undo(1)
    store.close()

    with ProjectStore.open(tmp_path / "project") as s:  # the flag is in the persisted history too
        assert s.masks(1) == draft
        s.redo(1)
        assert s.masks(1) == accepted


def _stored_masks(tmp_path: Path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "project" / DB_NAME) as conn:
        return conn.execute("SELECT * FROM masks ORDER BY frame_id, object_id").fetchall()


def test_accept_without_a_mask_raises_and_writes_nothing(store: ProjectStore) -> None:
    store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
    before = _disk_state(store, 1)
    with pytest.raises(KeyError, match="no mask"):
        store.accept_mask(1, 0)
    with pytest.raises(KeyError):
        store.accept_mask(99, 0)
    assert _disk_state(store, 1) == before and store.masks(1) == {}


def test_closed_store_raises_project_error(store: ProjectStore) -> None:
    store.close()
    with pytest.raises(ProjectError, match="closed"):
        store.frames()


def test_worker_thread_reads_while_main_thread_writes(store: ProjectStore) -> None:
    errors: list[Exception] = []
    reading, done = threading.Event(), threading.Event()

    def reader() -> None:
        try:
            while not done.is_set():
                store.points(1)
                store.frame_statuses()
                reading.set()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=reader, daemon=True)
    worker.start()
    try:
        assert reading.wait(10)  # the writes below overlap the reads
        for k in range(40):
            store.add_point(1, Point(k, k, PointKind.FOREGROUND))
    finally:
        done.set()
        worker.join(10)
    assert not worker.is_alive()
    assert errors == [] and len(store.points(1)) == 40


KILL_SCRIPT = """
import os, signal, sys
sys.path.insert(0, {repo!r})
from core.annotation.points import Point, PointKind
from core.project.store import ProjectStore

store = ProjectStore.open({folder!r})
store.add_point(1, Point(5, 6, PointKind.FOREGROUND))

def die_mid_edit(statement):
    if statement.lstrip().startswith("INSERT INTO history"):  # points already rewritten, history not yet
        os.kill(os.getpid(), signal.SIGKILL) if hasattr(signal, "SIGKILL") else os._exit(9)

store._db._conn.set_trace_callback(die_mid_edit)
store.add_point(1, Point(7, 8, PointKind.BACKGROUND))
print("second edit finished: the kill did not happen")
"""


def test_process_killed_inside_second_edit_keeps_first_edit(tmp_path: Path, store: ProjectStore) -> None:
    store.close()
    folder = tmp_path / "project"
    script = KILL_SCRIPT.format(repo=str(REPO), folder=str(folder))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "did not happen" not in result.stdout
    assert result.returncode in (-getattr(signal, "SIGKILL", 9), 9), result.stderr

    with sqlite3.connect(folder / DB_NAME) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    with ProjectStore.open(folder) as s:
        assert list(s.points(1).values()) == [Point(5, 6, PointKind.FOREGROUND)]
        assert s.can_undo(1) and not s.can_redo(1)
        s.undo(1)
        assert s.points(1) == {} and not s.can_undo(1)
        s.add_point(1, Point(9, 9, PointKind.FOREGROUND))  # still writable after the crash
        assert len(s.points(1)) == 1


def _stamp_v1_history(folder: Path, object_id: int, stamp: str) -> None:
    """Give every record of the object's mask, in the masks table and the history, the same creation time."""
    with closing(sqlite3.connect(folder / DB_NAME)) as conn, conn:
        conn.execute("UPDATE masks SET created_at = ? WHERE object_id = ?", (stamp, object_id))
        for step, *states in conn.execute("SELECT id, before, after FROM history").fetchall():
            docs = [json.loads(state) for state in states]
            for doc in docs:
                doc["masks"] = [[m[0], m[1], stamp, m[3]] if m[0] == object_id else m for m in doc["masks"]]
            conn.execute("UPDATE history SET before = ?, after = ? WHERE id = ?",
                         (*(json.dumps(d).encode() for d in docs), step))


def test_v1_draft_and_its_accept_in_one_clock_tick_are_told_apart_by_order(tmp_path: Path,
                                                                           store: ProjectStore) -> None:
    """Schema 1 told drafts by their time; a draft and the accept that rewrote it can share a millisecond. The
    migration walks the writes in the order they were made: the first one with a booked time is the draft."""
    draft_mask, accepted_mask = np.zeros((64, 80), bool), np.ones((64, 80), bool)
    draft_mask[5:30, 5:30] = True
    store.set_mask(1, 0, draft_mask, "refined")  # the app's draft
    store.set_mask(1, 0, accepted_mask, "painted")  # the accept rewrote it (brushed pixels)
    store.close()
    folder = tmp_path / "project"
    _downgrade_to_v1(folder)
    tick = "2024-05-01T10:00:00.000+00:00"
    _stamp_v1_history(folder, 0, tick)
    with closing(sqlite3.connect(folder / DB_NAME)) as conn, conn:
        conn.execute("INSERT INTO settings (key, value) VALUES ('gui.draft_masks.1', ?)", (json.dumps({"0": [tick]}),))

    with ProjectStore.open(folder) as s:
        assert s.masks(1)[0].accepted and s.masks(1)[0].provenance == MaskProvenance.PAINTED
        assert s.frame_status(1) == FrameStatus.MASK_ACCEPTED
        s.undo(1)
        assert not s.masks(1)[0].accepted
        np.testing.assert_array_equal(s.mask(1, 0), draft_mask)
        s.redo(1)
        assert s.masks(1)[0].accepted and s.mask(1, 0).all()


def test_a_mask_rewritten_within_one_clock_tick_is_still_an_undo_step(store: ProjectStore) -> None:
    mask = np.ones((64, 80), bool)
    store.set_mask(1, 0, mask, "refined")
    first = store.masks(1)[0]
    store.set_mask(1, 0, mask, "refined")
    assert store.masks(1)[0].created_at > first.created_at
    store.undo(1)
    assert store.masks(1)[0] == first


def test_v2_history_becomes_deltas_grouped_by_the_apps_counts(tmp_path: Path, store: ProjectStore) -> None:
    """Schema 2's app grouped store edits into actions with counts in settings; the migration merges each action's
    edits into one step, so undo and redo still go action by action, exactly, and the counts are dropped."""
    states = [_disk_state(store, 1)[:2]]
    store.add_point(1, Point(3, 3, PointKind.FOREGROUND))  # action 1: a click and its draft mask
    store.set_mask(1, 0, np.ones((64, 80), bool), "refined", accepted=False)
    states.append(_disk_state(store, 1)[:2])
    store.accept_mask(1, 0)  # action 2: accept
    states.append(_disk_state(store, 1)[:2])
    store.set_calipers(1, 1, CALIPERS)  # action 3: calipers, a point moved, the mask redrawn
    store.move_point(next(iter(store.points(1))), 9, 9)
    store.set_mask(1, 1, np.ones((64, 80), bool), "generated", accepted=False)
    states.append(_disk_state(store, 1)[:2])
    store.add_point(2, Point(1, 1, PointKind.BACKGROUND))  # another frame, no counts: one edit each
    for _ in range(3):  # the app undid action 3
        store.undo(1)
    store.set_setting("gui.undo_groups.1", {"undo": [2, 1], "redo": [3]})
    store.set_setting("gui.undo_groups.7", "damaged")
    store.close()
    folder = tmp_path / "project"
    _downgrade_to_v2(folder)

    with ProjectStore.open(folder) as s:
        assert _schema_version(folder) == str(SCHEMA_VERSION) and s.get_setting("gui.undo_groups.1") is None
        assert s.get_setting("gui.undo_groups.7") is None
        assert _disk_state(s, 1)[:2] == states[2]
        assert s.redo(1) == 1 and _disk_state(s, 1)[:2] == states[3] and not s.can_redo(1)
        for expected in reversed(states[:3]):
            s.undo(1)
            assert _disk_state(s, 1)[:2] == expected
        assert not s.can_undo(1)
        assert s.undo(2) == 2 and s.points(2) == {}


def test_v2_frame_with_a_damaged_snapshot_keeps_its_annotations_and_loses_its_history(
    tmp_path: Path, store: ProjectStore
) -> None:
    store.add_point(1, Point(3, 3, PointKind.FOREGROUND))
    store.add_point(1, Point(4, 4, PointKind.FOREGROUND))
    store.add_point(2, Point(5, 5, PointKind.FOREGROUND))
    points = store.points(1)
    store.close()
    folder = tmp_path / "project"
    _downgrade_to_v2(folder)
    with closing(sqlite3.connect(folder / DB_NAME)) as conn, conn:
        conn.execute("UPDATE history SET before = ? WHERE id = (SELECT MIN(id) FROM history)", (b"{not json",))

    with ProjectStore.open(folder) as s:
        assert s.points(1) == points and not s.can_undo(1)
        assert s.undo(2) == 2 and s.points(2) == {}
