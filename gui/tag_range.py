"""Tagging a range of frames while stepping through them (a cine clip, or the list): T marks the shown frame as
the range's first; the user steps (N/P, the cine slider, play) to its last, and the tag keys (0, Y, Ctrl+0) then
tag every frame from the mark to the shown one as one undo step. T again, or closing the project, drops the mark."""
from __future__ import annotations

from PyQt5 import QtCore, QtWidgets


def frames_between(order: list[int], first: int, last: int) -> list[int]:
    """The frames of `order` from `first` to `last` inclusive, in `order`'s order, whichever comes first; [] when
    either is not in it."""
    if first not in order or last not in order:
        return []
    a, b = sorted((order.index(first), order.index(last)))
    return order[a:b + 1]


class TagRangeMark(QtCore.QObject):
    """The mark of a range's first frame (see the module docstring); `window` is the MainWindow."""

    changed = QtCore.pyqtSignal()  # marked or dropped

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.start: int | None = None

    def toggle(self) -> None:
        """Mark the shown frame as the first of a range, or drop the mark."""
        controller = self.window.controller
        if self.start is not None or controller is None or controller.current_frame_id is None:
            self.clear()
            self.window.statusBar().showMessage("Tag range mark removed", 4000)
            return
        self.start = controller.current_frame_id
        self.changed.emit()
        name = self.window.frame_list.frame_name(self.start)
        self.window.statusBar().showMessage(
            f"Range starts at {name}: step to its last frame, then 0 (no nodule), Y (nodule present) or Ctrl+0 "
            f"(clear) tags them all; T again drops the mark", 0)

    def clear(self) -> None:
        if self.start is not None:
            self.start = None
            self.changed.emit()

    def label(self) -> str:
        """For the status line while a range is marked: how many frames the tag keys would tag."""
        if self.start is None:
            return ""
        return f"tag range: {len(self.frames())} frames from {self.window.frame_list.frame_name(self.start)}"

    def frames(self) -> list[int]:
        """The frames from the mark to the shown frame: within their clip when both are of the same one, else in
        the frame list's order (as filtered); [] without a mark."""
        controller = self.window.controller
        current = None if controller is None else controller.current_frame_id
        if self.start is None or current is None:
            return []
        frame_list = self.window.frame_list
        clip = frame_list.source_frames(current)
        order = clip if self.start in clip else frame_list.visible_ids()
        return frames_between(order, self.start, current) or [current]
