"""Label classes in the project store: the default class, adding and renaming, each object's class as an
undoable edit, and projects from before classes opening with every object as nodule."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.annotation.points import Calipers
from core.errors import ProjectError
from core.project.classes import DEFAULT_CLASS_ID, LabelClass
from core.project.object_replace import NewObject
from core.project.schema import SCHEMA_VERSION
from core.project.store import DB_NAME, ProjectStore
from core.training.synthetic import make_frame

CALIPERS = Calipers((10.0, 20.0), (50.0, 40.0), (30.0, 20.0), (28.0, 42.0))


@pytest.fixture
def store(tmp_path: Path):
    cv2.imwrite(str(tmp_path / "a.png"), make_frame(1, (64, 80)).image)
    s = ProjectStore.create(tmp_path / "project")
    s.add_frames([tmp_path / "a.png"])
    yield s
    s.close()


def test_a_new_project_has_the_nodule_class_and_takes_more(store: ProjectStore) -> None:
    assert store.classes() == [LabelClass(1, "nodule", "#f5c400")]
    gland = store.add_class("  thyroid   gland ")
    assert gland.name == "thyroid gland" and gland.id == 2 and gland.colour != "#f5c400"
    assert store.add_class("cyst", "#00ff00") == LabelClass(3, "cyst", "#00ff00")
    store.rename_class(3, "Cyst (simple)")
    assert [c.name for c in store.classes()] == ["nodule", "thyroid gland", "Cyst (simple)"]
    for bad in (lambda: store.add_class("Nodule"), lambda: store.add_class(""), lambda: store.add_class("x", "red"),
                lambda: store.rename_class(2, "nodule")):
        with pytest.raises(ProjectError):
            bad()
    with pytest.raises(KeyError):
        store.rename_class(9, "nine")


def test_object_class_is_an_undoable_edit(store: ProjectStore) -> None:
    gland = store.add_class("thyroid gland")
    store.set_mask(1, 0, np.ones((64, 80), bool), "painted")
    store.set_calipers(1, 1, CALIPERS)
    assert store.object_classes(1) == {0: DEFAULT_CLASS_ID, 1: DEFAULT_CLASS_ID}
    store.set_object_class(1, 0, gland.id)
    assert store.object_class(1, 0) == gland.id and store.object_classes(1) == {0: gland.id, 1: 1}
    store.undo(1)
    assert store.object_class(1, 0) == DEFAULT_CLASS_ID
    store.redo(1)
    assert store.object_class(1, 0) == gland.id
    with pytest.raises(KeyError):
        store.set_object_class(1, 0, 42)
    store.clear_object(1, 0)
    assert store.object_classes(1) == {1: 1}
    store.undo(1)
    assert store.object_classes(1) == {0: gland.id, 1: 1}


def test_put_objects_replaces_masks_and_calipers_in_one_step(store: ProjectStore) -> None:
    gland = store.add_class("thyroid gland")
    store.set_mask(1, 0, np.ones((64, 80), bool), "painted")
    store.set_calipers(1, 0, CALIPERS)
    store.set_mask(1, 5, np.ones((64, 80), bool), "refined", accepted=False)  # a draft stays
    inner = np.zeros((64, 80), bool)
    inner[10:30, 10:40] = True
    store.put_objects(1, [NewObject(gland.id, ~inner), NewObject(1, inner, CALIPERS)], "painted")
    assert store.object_classes(1) == {5: 1, 6: gland.id, 7: 1}
    assert {oid: r.accepted for oid, r in store.masks(1).items()} == {5: False, 6: True, 7: True}
    assert store.calipers(1) == {7: CALIPERS}
    store.undo(1)
    assert store.object_classes(1) == {0: 1, 5: 1} and store.calipers(1) == {0: CALIPERS}


def test_a_project_from_before_classes_opens_with_every_object_a_nodule(tmp_path: Path, store: ProjectStore) -> None:
    store.set_mask(1, 0, np.ones((64, 80), bool), "painted")
    store.set_calipers(1, 1, CALIPERS)
    folder = store.folder
    store.close()
    with sqlite3.connect(folder / DB_NAME) as conn:  # what schema 4 had: no class tables
        conn.execute("DROP TABLE object_classes")
        conn.execute("DROP TABLE classes")
        conn.execute("DROP TABLE history_classes")
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    with ProjectStore.open(folder) as reopened:
        assert [c.name for c in reopened.classes()] == ["nodule"]
        assert reopened.object_classes(1) == {0: 1, 1: 1}
        reopened.undo(1)  # history written before the migration still undoes
        assert reopened.calipers(1) == {}
    with sqlite3.connect(folder / DB_NAME) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
