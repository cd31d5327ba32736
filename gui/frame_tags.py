"""Frame tags in the window: the keys that tag the shown frame, the frames selected in the list, or a range marked
while stepping (gui.tag_range), *no nodule* or *nodule present* (or clear their tags) as one undoable store
action, the question asked before *no nodule* removes a frame's nodules, and the frame list's tag column kept up to
date. Every store access runs on the store worker."""
from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

from core.annotation.tags import FrameTag
from core.project.display_status import DisplayStatus
from core.project.store import ProjectStore
from gui.tag_range import TagRangeMark


def tag_frames(store: ProjectStore, frame_ids: list[int], tag: FrameTag | None, remove_objects: bool) -> list[int]:
    """Tag the frames (store worker); when *no nodule* would remove nodules and that was not asked, write nothing
    and return the frames that have them."""
    if tag is FrameTag.NO_NODULE and not remove_objects:
        busy = store.frames_with_nodules(frame_ids)
        if busy:
            return busy
    store.set_tag(frame_ids, tag, remove_objects=remove_objects)
    return []


class FrameTagsUi(QtCore.QObject):
    """The window's frame tags (see the module docstring); `window` is the MainWindow."""

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._refresh_timer = QtCore.QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)  # many status changes in one event-loop turn: one read
        self._refresh_timer.timeout.connect(self._refresh)
        self._refreshing = False
        self._stale = False
        self.range = TagRangeMark(window)

    @property
    def idle(self) -> bool:
        return not self._refresh_timer.isActive() and not self._refreshing

    def chosen_frames(self) -> list[int]:
        """The range from its mark to the shown frame when one is marked, else the frames selected in the list when
        several are, else the shown frame; unreadable ones left out."""
        frame_list, controller = self.window.frame_list, self.window.controller
        ranged = self.range.frames()
        selected = ranged or frame_list.selected_ids()
        if len(selected) < 2 and not ranged:
            current = None if controller is None else controller.current_frame_id
            selected = [] if current is None else [current]
        return [f for f in selected if frame_list.status(f) != DisplayStatus.UNREADABLE]

    def tag(self, tag: FrameTag | None, remove_objects: bool = False, frame_ids: list[int] | None = None) -> None:
        """Tag the chosen frames (or `frame_ids`) as one undo step; *no nodule* on frames with nodules asks first."""
        controller = self.window.controller
        if controller is None or controller.edits_refused():
            return
        ids = self.chosen_frames() if frame_ids is None else frame_ids
        self.range.clear()  # used, or not usable: the next tag is for the shown frame again
        if not ids:
            self._say("No frame to tag")
            return
        store = controller.store

        def written(busy: list[int]) -> None:
            if busy:
                if self.confirm_removal(len(busy), len(ids)):
                    self.tag(tag, True, ids)
                return
            self._say(self._done_text(tag, len(ids)))
            self.schedule_refresh()

        controller.write_frames(ids, lambda: tag_frames(store, ids, tag, remove_objects), written,
                                objects_may_go=remove_objects)

    def confirm_removal(self, busy: int, total: int) -> bool:
        """Ask before *no nodule* removes the nodules (points, strokes, masks) of `busy` of the `total` frames."""
        which = "This frame has" if total == 1 else f"{busy} of the {total} frames have"
        answer = QtWidgets.QMessageBox.question(
            self.window, "Tag no nodule",
            f"{which} nodules drawn (points, strokes or masks). Remove them and tag no nodule? (Undo brings "
            f"them back.)",
            QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No, QtWidgets.QMessageBox.No)
        return answer == QtWidgets.QMessageBox.Yes

    def schedule_refresh(self, *_: object) -> None:
        """Read every frame's tag again soon (after tags, accepts, undo/redo or an import changed some)."""
        self._refresh_timer.start()

    def _refresh(self) -> None:
        session = self.window.session
        if session is None:
            return
        if self._refreshing:
            self._stale = True
            return
        self._refreshing = True

        def shown(tags: dict[int, FrameTag]) -> None:
            self._refreshing = False
            if self.window.session is session:
                self.window.frame_list.set_tags(tags)
            if self._stale:
                self._stale = False
                self.schedule_refresh()

        def failed(exc: BaseException) -> None:
            self._refreshing = False
            session.jobs.report(exc)

        session.jobs.submit(session.store.effective_tags, shown, failed)

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 6000)

    @staticmethod
    def _done_text(tag: FrameTag | None, count: int) -> str:
        frames = "this frame" if count == 1 else f"{count} frames"
        return f"Tags cleared on {frames}" if tag is None else f"Tagged {frames}: {tag.title.lower()}"
