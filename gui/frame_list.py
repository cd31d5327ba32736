"""The frame list: every frame of the project with its status (unreadable ones with the reason) and its tag (no
nodule / nodule present), a status filter and a tag filter, and a one-line summary. Navigation (N/P) follows the
visible, filtered order; several frames can be selected (shift/ctrl click) to tag them at once."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from PyQt5 import QtCore, QtGui, QtWidgets

from core.annotation.tags import FrameTag
from core.project.display_status import DisplayStatus, needs_work
from core.project.records import FrameRecord
from gui import style

NEEDS_WORK = frozenset({DisplayStatus.UNLABELLED, DisplayStatus.PREDICTED})
FILTERS: list[tuple[str, frozenset[DisplayStatus] | set[DisplayStatus] | None]] = [
    ("All frames", None),
    ("Needs work", NEEDS_WORK),  # core.project.display_status.needs_work: a "no nodule" tag is work done
    ("Unlabelled", {DisplayStatus.UNLABELLED}),
    ("Not accepted yet", {DisplayStatus.CALIPERS, DisplayStatus.DRAFT}),
    ("Mask accepted", {DisplayStatus.ACCEPTED}),
    ("Predicted only", {DisplayStatus.PREDICTED}),
    ("Unreadable", {DisplayStatus.UNREADABLE}),
]
ANY_TAG = "any"
# the list's narrow columns leave the frame names room: a short word for the status, a symbol for the tag, the
# whole text in each cell's tooltip
TAG_SYMBOLS = {FrameTag.NO_NODULE: "\u2205", FrameTag.NODULE: "\u25cf"}  # ∅, ●
TAG_FILTERS: list[tuple[str, FrameTag | str | None]] = [
    ("All tags", ANY_TAG),
    (f"{TAG_SYMBOLS[FrameTag.NO_NODULE]} No nodule", FrameTag.NO_NODULE),  # the symbols explained where chosen
    (f"{TAG_SYMBOLS[FrameTag.NODULE]} Nodule present", FrameTag.NODULE),
    ("Untagged", None),
]
STATUS_WORDS = {
    DisplayStatus.UNLABELLED: "to do",
    DisplayStatus.CALIPERS: "calipers",
    DisplayStatus.DRAFT: "draft",
    DisplayStatus.ACCEPTED: "accepted",
    DisplayStatus.PREDICTED: "predicted",
    DisplayStatus.UNREADABLE: "unreadable",
}
TAG_COLOURS = {FrameTag.NO_NODULE: "#8fa3b8", FrameTag.NODULE: "#f5c400"}
FRAME_ID_ROLE = QtCore.Qt.UserRole
STATUS_COLUMN, TAG_COLUMN = 1, 2
DOT_PX = 10
TAG_PADDING_PX = 12  # the cell's margins around the tag symbol
DETAIL_FONT_SCALE = 0.85


def _dot(colour: str) -> QtGui.QIcon:
    pixmap = QtGui.QPixmap(DOT_PX, DOT_PX)
    pixmap.fill(QtCore.Qt.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.Antialiasing)
    painter.setBrush(QtGui.QColor(colour))
    painter.setPen(QtCore.Qt.NoPen)
    painter.drawEllipse(1, 1, DOT_PX - 2, DOT_PX - 2)
    painter.end()
    return QtGui.QIcon(pixmap)


class FrameList(QtWidgets.QWidget):
    frame_chosen = QtCore.pyqtSignal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_box = QtWidgets.QComboBox()
        for label, _ in FILTERS:
            self.filter_box.addItem(label)
        self.filter_box.setFocusPolicy(QtCore.Qt.NoFocus)
        self.filter_box.setToolTip("Needs work: unlabelled or with the model's prediction only; not accepted yet: "
                                   "calipers or a draft mask")
        self.filter_box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.filter_box.setMinimumContentsLength(14)  # the longest entry; the list no longer sets the dock's width
        self.tag_filter_box = QtWidgets.QComboBox()
        for label, _ in TAG_FILTERS:
            self.tag_filter_box.addItem(label)
        self.tag_filter_box.setFocusPolicy(QtCore.Qt.NoFocus)
        self.tag_filter_box.setToolTip("Frames by tag: no nodule, nodule present (a frame with an accepted mask "
                                       "counts as nodule present), or untagged")
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Frame", "Status", "Tag"])
        self.tree.setHeaderHidden(True)  # name, coloured status word, tag symbol: the header's width goes to names
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setFocusPolicy(QtCore.Qt.NoFocus)  # keys belong to the annotation shortcuts
        self.tree.setIconSize(QtCore.QSize(DOT_PX, DOT_PX))
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)  # a range to tag at once
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(1)  # the tag column is one symbol wide, less than a header's minimum
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.Stretch)  # names get what the status leaves
        header.setSectionResizeMode(STATUS_COLUMN, QtWidgets.QHeaderView.ResizeToContents)
        header.setSectionResizeMode(TAG_COLUMN, QtWidgets.QHeaderView.Fixed)
        self._detail_font = QtGui.QFont(self.tree.font())  # status word and tag symbol: smaller than the names
        self._detail_font.setPointSizeF(self.tree.font().pointSizeF() * DETAIL_FONT_SCALE)
        detail_metrics = QtGui.QFontMetrics(self._detail_font)
        symbol_px = max(detail_metrics.horizontalAdvance(s) for s in TAG_SYMBOLS.values())
        header.resizeSection(TAG_COLUMN, symbol_px + TAG_PADDING_PX)
        self.tree.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        # frames of one folder differ at the end of their names ("us_0001.png", "[12]"): an elided name keeps it
        self.tree.setTextElideMode(QtCore.Qt.ElideLeft)
        self.summary = QtWidgets.QLabel("No project open")
        self.summary.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 4)
        layout.addWidget(self.filter_box)
        layout.addWidget(self.tag_filter_box)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.summary)
        self._items: dict[int, QtWidgets.QTreeWidgetItem] = {}
        self._records: dict[int, FrameRecord] = {}
        self._statuses: dict[int, DisplayStatus] = {}
        self._tags: dict[int, FrameTag] = {}
        self._by_source: dict[str, list[int]] = {}
        self._icons = {s: _dot(style.STATUS_COLOURS[s.value]) for s in DisplayStatus}
        self.scanning_text = ""
        self.filter_box.currentIndexChanged.connect(self._apply_filter)
        self.tag_filter_box.currentIndexChanged.connect(self._apply_filter)
        self.tree.currentItemChanged.connect(self._on_current_changed)

    # ----- content -------------------------------------------------------------------------------------
    def clear(self) -> None:
        self.tree.clear()
        self._items.clear()
        self._records.clear()
        self._statuses.clear()
        self._tags.clear()
        self._by_source.clear()
        self._update_summary()

    def add_frames(self, records: list[FrameRecord], statuses: dict[int, DisplayStatus]) -> None:
        new_items = []
        for record in records:
            if record.id in self._items:
                continue
            item = QtWidgets.QTreeWidgetItem()
            for column in (STATUS_COLUMN, TAG_COLUMN):
                item.setFont(column, self._detail_font)
            item.setData(0, FRAME_ID_ROLE, record.id)
            self._items[record.id] = item
            self._records[record.id] = record
            self._by_source.setdefault(record.path, []).append(record.id)
            new_items.append(item)
        self.tree.addTopLevelItems(new_items)
        new_ids = {int(item.data(0, FRAME_ID_ROLE)) for item in new_items}
        for record in records:
            if record.id not in new_ids:
                continue
            siblings = self._by_source[record.path]
            for fid in siblings:
                self._items[fid].setText(0, self.frame_name(fid))
            self.set_status(record.id, statuses.get(record.id, DisplayStatus.UNREADABLE if record.error
                                                    else DisplayStatus.UNLABELLED), refresh=False)
        self._apply_filter()

    def frame_name(self, frame_id: int) -> str:
        record = self._records[frame_id]
        if len(self._by_source.get(record.path, ())) > 1:
            return f"{record.source.name} [{record.index + 1}]"
        return record.source.name

    def set_status(self, frame_id: int, status: DisplayStatus, refresh: bool = True) -> None:
        item = self._items.get(frame_id)
        if item is None:
            return
        self._statuses[frame_id] = status
        record = self._records[frame_id]
        text = status.value
        if status == DisplayStatus.UNREADABLE:
            text = f"unreadable: {record.error or 'cannot be read'}"
        tip = f"{self.frame_name(frame_id)}: {text}\n{record.source}"  # the whole of what a narrow list elides
        item.setText(STATUS_COLUMN, STATUS_WORDS[status])
        item.setIcon(STATUS_COLUMN, self._icons[status])
        item.setForeground(STATUS_COLUMN, QtGui.QBrush(QtGui.QColor(style.STATUS_COLOURS[status.value])))
        item.setToolTip(0, tip)
        item.setToolTip(STATUS_COLUMN, tip)
        if refresh:
            item.setHidden(self._hidden(frame_id))
            self._update_summary()

    def set_tags(self, tags: dict[int, FrameTag]) -> None:
        """Show every frame's tag (frames not in `tags` are untagged); only the rows whose tag changed are touched,
        so a list of 10^5 frames costs nothing when one tag changes."""
        changed = [f for f in self._tags.keys() | tags.keys() if self._tags.get(f) != tags.get(f) and f in self._items]
        for frame_id in changed:
            item, tag = self._items[frame_id], tags.get(frame_id)
            if tag is None:
                self._tags.pop(frame_id, None)
                item.setText(TAG_COLUMN, "")
                item.setToolTip(TAG_COLUMN, "")
            else:
                self._tags[frame_id] = tag
                item.setText(TAG_COLUMN, TAG_SYMBOLS[tag])
                item.setForeground(TAG_COLUMN, QtGui.QBrush(QtGui.QColor(TAG_COLOURS[tag])))
                item.setToolTip(TAG_COLUMN, f"{self.frame_name(frame_id)}: {tag.title.lower()}")
            item.setHidden(self._hidden(frame_id))
        if changed:
            self._update_summary()

    def mark_unreadable(self, frame_id: int, reason: str) -> None:
        """A frame that failed when loaded (its file changed since it was added)."""
        record = self._records.get(frame_id)
        if record is not None and record.error is None:
            self._records[frame_id] = replace(record, error=reason)
        self.set_status(frame_id, DisplayStatus.UNREADABLE)

    # ----- queries -------------------------------------------------------------------------------------
    def record(self, frame_id: int) -> FrameRecord | None:
        return self._records.get(frame_id)

    def status(self, frame_id: int) -> DisplayStatus | None:
        return self._statuses.get(frame_id)

    def tag(self, frame_id: int) -> FrameTag | None:
        """The frame's tag as shown (an accepted mask shows as nodule present)."""
        return self._tags.get(frame_id)

    def selected_ids(self) -> list[int]:
        """The selected frames that are shown, in list order."""
        return [fid for fid, item in self._items.items() if item.isSelected() and not item.isHidden()]

    def frame_ids(self) -> list[int]:
        return list(self._items)

    def visible_ids(self) -> list[int]:
        return [fid for fid, item in self._items.items() if not item.isHidden()]

    def source_frames(self, frame_id: int) -> list[int]:
        """Frames of the same source file (a cine loop or video), in frame order."""
        record = self._records.get(frame_id)
        if record is None:
            return []
        return sorted(self._by_source.get(record.path, [frame_id]), key=lambda f: self._records[f].index)

    # ----- selection -----------------------------------------------------------------------------------
    def select(self, frame_id: int) -> None:
        item = self._items.get(frame_id)
        if item is None:
            return
        if self.tree.currentItem() is item:  # e.g. shown because a shift-click made it current: keep the range
            self.tree.scrollToItem(item)
            return
        self.tree.blockSignals(True)
        self.tree.clearSelection()  # stepping to another frame ends a multi-frame selection
        self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)
        self.tree.scrollToItem(item)

    def select_frames(self, frame_ids: list[int]) -> None:
        """Select these frames (the first becomes the current one, and is shown)."""
        items = [self._items[f] for f in frame_ids if f in self._items]
        if not items:
            return
        self.tree.clearSelection()
        self.tree.setCurrentItem(items[0])
        for item in items[1:]:
            item.setSelected(True)

    def _on_current_changed(self, item: QtWidgets.QTreeWidgetItem | None, _previous: object) -> None:
        if item is not None:
            self.frame_chosen.emit(int(item.data(0, FRAME_ID_ROLE)))

    def _hidden(self, frame_id: int) -> bool:
        wanted = FILTERS[self.filter_box.currentIndex()][1]
        tag = TAG_FILTERS[self.tag_filter_box.currentIndex()][1]
        status = self._statuses.get(frame_id)
        if wanted is NEEDS_WORK:
            hidden_by_status = not needs_work(status, self._tags.get(frame_id))
        else:
            hidden_by_status = wanted is not None and status not in wanted
        return hidden_by_status or (tag != ANY_TAG and self._tags.get(frame_id) != tag)

    def set_tag_filter(self, tag: FrameTag | str | None) -> None:
        """Show only frames with this tag (None: untagged ones; ANY_TAG: all)."""
        self.tag_filter_box.setCurrentIndex([wanted for _, wanted in TAG_FILTERS].index(tag))

    def _apply_filter(self) -> None:
        for fid, item in self._items.items():
            item.setHidden(self._hidden(fid))
        self._update_summary()

    def _update_summary(self) -> None:
        counts = Counter(self._statuses.values())  # fast enough: C-level counting, even for 10^5 frames
        total = len(self._items)
        parts = [f"{total} frame{'' if total == 1 else 's'}", f"{counts[DisplayStatus.ACCEPTED]} accepted"]
        judged = sum(1 for fid, tag in self._tags.items()  # "no nodule": nothing left to outline there
                     if not needs_work(self._statuses.get(fid), tag) and self._statuses.get(fid) in NEEDS_WORK)
        todo = counts[DisplayStatus.UNLABELLED] + counts[DisplayStatus.PREDICTED] - judged
        parts.append(f"{todo} to do")
        if counts[DisplayStatus.UNREADABLE]:
            parts.append(f"{counts[DisplayStatus.UNREADABLE]} unreadable")
        tagged = Counter(self._tags.values())
        if tagged[FrameTag.NO_NODULE]:
            parts.append(f"{tagged[FrameTag.NO_NODULE]} no nodule")
        text = " · ".join(parts) if total else "No frames"
        self.summary.setText(text + (f"\n{self.scanning_text}" if self.scanning_text else ""))
