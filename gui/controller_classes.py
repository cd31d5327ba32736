"""The label-class half of the annotation controller: the project's class list (read and changed on the store
worker), the selected class, and the class of the current object.

The selected class is the class of the current object: choosing a class (toolbar or keys 1-9) makes the current
object that class's object on the frame (its first one, else a new one), so calipers, clicks and brush strokes
refine an object of the chosen class; choosing an existing object selects its class. A new object gets the
selected class with its first edit, written in the same store action. Changing the class of the current object
is its own edit: one Commit, one undo step."""
from __future__ import annotations

from core.errors import ProjectError
from core.project.classes import DEFAULT_CLASS_ID, LabelClass
from core.project.frame_edits import Commit
from gui.class_legend import object_title
from gui.editor_frame import EditorFrame


class ClassActions:
    """Mixin of AnnotationController: label classes."""

    classes: list[LabelClass]
    selected_class: int

    # ----- the class list ------------------------------------------------------------------------------
    def load_classes(self) -> None:
        """Read the class list on the store worker; `classes_changed` follows."""
        self._jobs.submit(self.store.classes, self._classes_loaded)

    def _classes_loaded(self, classes: list[LabelClass]) -> None:
        self.classes = list(classes)
        if self.selected_class not in self.class_ids():
            self.selected_class = DEFAULT_CLASS_ID
        self.classes_changed.emit(self.classes)
        self.class_changed.emit(self.selected_class)
        self.changed.emit()

    def class_ids(self) -> list[int]:
        return [c.id for c in self.classes]

    def class_names(self) -> dict[int, str]:
        return {c.id: c.name for c in self.classes}

    def add_class(self, name: str) -> None:
        """Add a class (project data, not undoable) and select it; a refused name is said in the status bar."""
        if self.edits_refused():
            return

        def done(result: tuple[LabelClass, list[LabelClass]]) -> None:
            added, classes = result
            self._classes_loaded(classes)
            self.select_class(added.id)
            self.message.emit(f"Class {added.name!r} added: key {self._key_of(added.id)} selects it")

        self._jobs.submit(lambda: (self.store.add_class(name), self.store.classes()), done, self._class_refused)

    def rename_class(self, class_id: int, name: str) -> None:
        if self.edits_refused():
            return

        def done(result: tuple[LabelClass, list[LabelClass]]) -> None:
            renamed, classes = result
            self._classes_loaded(classes)
            self.message.emit(f"Class renamed to {renamed.name!r}")

        self._jobs.submit(lambda: (self.store.rename_class(class_id, name), self.store.classes()), done,
                          self._class_refused)

    def _class_refused(self, exc: BaseException) -> None:
        if not isinstance(exc, ProjectError):
            self._jobs.report(exc)
            return
        self.message.emit(f"Class not changed: {exc}")

    def _key_of(self, class_id: int) -> str:
        ids = self.class_ids()
        position = ids.index(class_id) + 1 if class_id in ids else 0
        return str(position) if 1 <= position <= 9 else "(none: classes 1-9 have keys)"

    def object_title(self, object_id: int) -> str:
        """'Nodule 1', 'Thyroid gland 2': the object's class (the selected one for an object not started yet)
        and its number."""
        frame = self.current
        class_id = None if frame is None else frame.object_class(object_id)
        return object_title(self.class_names().get(self.selected_class if class_id is None else class_id, "object"),
                            object_id)

    def class_at(self, position: int) -> int | None:
        """The id of the class at `position` (1-based, the order of the toolbar list), or None."""
        ids = self.class_ids()
        return ids[position - 1] if 1 <= position <= len(ids) else None

    # ----- the selected class ---------------------------------------------------------------------------
    def select_class(self, class_id: int) -> None:
        """Work on `class_id`: the current object becomes the frame's first object of that class, else a new
        one (which gets the class with its first edit)."""
        if class_id not in self.class_ids():
            return
        self.selected_class = class_id
        frame = self.current
        shown = None if frame is None else frame.object_class(self.current_object)
        if frame is not None and shown != class_id:
            same = [oid for oid in frame.object_ids() if frame.object_class(oid) == class_id]
            if same or shown is not None:  # an object not started yet simply takes the class
                self.current_object = same[0] if same else max(frame.object_ids()) + 1
                self.current_object_changed.emit(self.current_object)
        self.class_changed.emit(class_id)
        self.changed.emit()

    def _follow_object_class(self) -> None:
        """Select the current object's class (after choosing an existing object)."""
        frame = self.current
        class_id = None if frame is None else frame.object_class(self.current_object)
        if class_id is not None and class_id != self.selected_class:
            self.selected_class = class_id
            self.class_changed.emit(class_id)

    def _first_object_of_selected_class(self, frame: EditorFrame) -> int:
        """The object to start on when a frame is shown: its first of the selected class, else a new one."""
        ids = frame.object_ids()
        same = [oid for oid in ids if frame.object_class(oid) == self.selected_class]
        if same or not ids:
            return same[0] if same else 0
        return max(ids) + 1

    def set_object_class(self, class_id: int) -> None:
        """Give the current object `class_id` (one undoable step); an object not started yet just takes it."""
        if class_id not in self.class_ids():
            return
        frame = self._editable(lambda: self.set_object_class(class_id))
        if frame is None:
            return
        obj, old = self.current_object, frame.object_class(self.current_object)
        self.selected_class = class_id
        if old is not None and old != class_id:
            frame.pending_classes[obj] = class_id
            self._commit(Commit(frame.frame_id, object_classes={obj: class_id}))
            names = self.class_names()
            self.message.emit(f"Object {obj + 1}: {names.get(old, old)} → {names.get(class_id, class_id)} "
                              "(Ctrl+Z undoes)")
        self.class_changed.emit(class_id)
        self.changed.emit()

    # ----- classes of new objects -----------------------------------------------------------------------
    def _claim_class(self, frame: EditorFrame, obj: int) -> None:
        """An edit of `obj` starts it: a new object gets the selected class (written with the edit)."""
        if frame.object_class(obj) is None:
            frame.pending_classes[obj] = self.selected_class

    @staticmethod
    def _with_pending_classes(frame: EditorFrame | None, commit: Commit) -> None:
        """Add to `commit` the classes not yet written of the objects it writes."""
        if frame is None:
            return
        objects = ({p.object_id for p in commit.add_points} | {s.object_id for s in commit.add_strokes}
                   | set(commit.draft_masks) | set(commit.accepted_masks))
        for obj in objects & set(frame.pending_classes):
            commit.object_classes.setdefault(obj, frame.pending_classes[obj])

