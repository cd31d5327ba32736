"""The persistence half of the annotation controller: writing each action as one Commit on the store worker, and
undo/redo (run on the store worker too; edits made meanwhile wait and then apply to the restored state)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.interactive.session import InteractionSession
from core.project.frame_edits import Commit, FrameAnnotations, read_annotations
from core.project.records import FrameRecord, HistoryStep
from core.project.store import ProjectStore
from core.serving.frame_loading import sessions_after_history


class HistoryActions:
    """Mixin of AnnotationController: saving actions and stepping through their history."""

    # ----- writing -------------------------------------------------------------------------------------
    def _commit(self, commit: Commit, point_seqs: list[int] | None = None, live_seq: int | None = None) -> None:
        self._with_pending_classes(self._frames.get(commit.frame_id), commit)
        classes = dict(commit.object_classes)
        seqs = list(point_seqs or [])
        moved = [pid for pid, _, _ in commit.move_points]
        objects = set(commit.draft_masks) | set(commit.accepted_masks) | set(commit.clear_objects)

        def done(result: tuple[FrameAnnotations, FrameRecord]) -> None:
            snapshot, record = result
            frame = self._frames.get(commit.frame_id)
            if frame is not None:
                frame.committed = snapshot
                for s in seqs:
                    frame.pending_points.pop(s, None)
                    frame.pending_strokes.pop(s, None)
                for pid in moved:
                    frame.pending_moves.pop(pid, None)
                for obj in objects:
                    live = frame.live_masks.get(obj)
                    if live is not None and (live_seq is None or live[0] <= live_seq):
                        del frame.live_masks[obj]
                for obj, class_id in classes.items():
                    if frame.pending_classes.get(obj) == class_id:
                        del frame.pending_classes[obj]
            self.status_changed.emit(commit.frame_id, snapshot.status(record))
            if commit.frame_id == self._current_id:
                self.changed.emit()

        self._writes.submit(commit.frame_id,
                            lambda: (commit.apply(self.store), self.store.frame(commit.frame_id)), done)

    def write_frames(self, frame_ids: list[int], work: Callable[[], Any], done: Callable[[Any], None],
                     objects_may_go: bool = False) -> None:
        """Run `work`, a store write that changes `frame_ids` outside the editor (e.g. frame tags), on the store
        worker; the open frames among them are then read again (their undo state; with objects_may_go, their
        objects too, dropping edits in progress on them) before done(result) runs on the GUI thread. An edit still
        computing on one of the frames is saved first, so that the write sees its object (a *no nodule* tag then
        asks before removing it, instead of being written first and the edit bringing a nodule back)."""
        computing = [f for f in frame_ids if self._engine.in_flight(f)]
        if computing:
            self._after_engine.setdefault(computing[0], []).append(
                lambda: self.write_frames(frame_ids, work, done, objects_may_go))
            return
        cached = [f for f in frame_ids if f in self._frames]

        def write() -> tuple[Any, dict[int, FrameAnnotations]]:
            return work(), {f: read_annotations(self.store, f) for f in cached}

        def landed(outcome: tuple[Any, dict[int, FrameAnnotations]]) -> None:
            result, snapshots = outcome
            for frame_id, snapshot in snapshots.items():
                frame = self._frames.get(frame_id)
                if frame is None:
                    continue
                frame.committed = snapshot
                if objects_may_go:
                    frame.reset_to_committed()
                    self._generations[frame_id] = self._generations.get(frame_id, 0) + 1
                self.status_changed.emit(frame_id, snapshot.status(frame.loaded.record))
                if frame_id == self._current_id:
                    self.changed.emit()
            done(result)

        self._writes.submit_frames(frame_ids, write, landed)

    # ----- undo / redo ---------------------------------------------------------------------------------
    def undo(self) -> None:
        """Undo the latest action on this frame; an edit still computing is simply cancelled."""
        frame = self.current
        if frame is None or self._history_busy or self.edits_refused():
            return
        cancelled = [r for r in self._engine.in_flight(frame.frame_id)]
        if cancelled:
            self._generations[frame.frame_id] = self._generations.get(frame.frame_id, 0) + 1
            for request in sorted(cancelled, key=lambda r: -r.seq):
                frame.pending_points.pop(request.seq, None)
                frame.pending_strokes.pop(request.seq, None)
                frame.engine_states[request.object_id] = request.start
                frame.live_masks.pop(request.object_id, None)  # a drag preview's mask
            frame.pending_moves.clear()
            self._preview_in_flight = False
            self.message.emit("Edit cancelled")
            self.changed.emit()
            return
        self._history(lambda store, frame_id: store.undo_step(frame_id), "Undone", "Nothing to undo")

    def redo(self) -> None:
        if self.current is None or self._history_busy or self.edits_refused():
            return
        if self._engine.in_flight(self._current_id):
            return
        self._history(lambda store, frame_id: store.redo_step(frame_id), "Redone", "Nothing to redo")

    def _history(self, step: Callable[[ProjectStore, int], HistoryStep | None], did: str, nothing: str) -> None:
        """Run an undo or redo step; the status bar then says what happened (`did` or `nothing`), so a prompt
        of the undone step (e.g. "click its other end") does not stay behind."""
        frame = self.current
        assert frame is not None
        frame_id, loaded = frame.frame_id, frame.loaded
        started = {oid: s.prior_mask for oid, s in loaded.sessions.items()} if loaded.readable else {}
        self._history_busy = True
        self._drag, self._stroke = None, []

        def work() -> tuple[HistoryStep | None, FrameAnnotations, dict[int, InteractionSession]]:
            changed = step(self.store, frame_id)
            snapshot = read_annotations(self.store, frame_id)
            return changed, snapshot, sessions_after_history(loaded, snapshot, started) if started else {}

        def done(result: tuple[HistoryStep | None, FrameAnnotations, dict[int, InteractionSession]]) -> None:
            self._history_busy = False
            changed, snapshot, sessions = result
            loaded.sessions.update(sessions)
            others = [] if changed is None else [f for f in changed.frame_ids if f != frame_id]
            if others:  # an action on several frames, or a later edit elsewhere that had to go first
                self.other_frames_changed.emit(others)
            cached = self._frames.get(frame_id)
            if cached is not None:
                cached.committed = snapshot
                cached.reset_to_committed()
                self.status_changed.emit(frame_id, snapshot.status(cached.loaded.record))
            self._generations[frame_id] = self._generations.get(frame_id, 0) + 1
            if others:
                self.message.emit(f"{did}: {changed.label(frame_id)}")
            else:
                self.message.emit(did if changed else nothing)
            if frame_id == self._current_id:
                ids = cached.object_ids() if cached else []
                if ids and self.current_object not in ids:
                    self.set_current_object(ids[-1])
                self._follow_object_class()  # an undone or redone class change
                self.changed.emit()
            deferred, self._deferred = self._deferred, []
            for action in deferred:
                action()

        def failed(exc: BaseException) -> None:
            self._history_busy = False
            self._deferred = []
            raise exc

        self._jobs.submit(work, done, failed)
