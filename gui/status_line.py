"""The status bar's permanent labels (cursor reading, models, shown frame, click-to-mask time) laid out so a
temporary message (a tool's hint, what a model does) is read whole: while one is shown, the models and frame
labels give it their room and elide (their whole text in a tooltip), and take it back when it goes."""
from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

LABEL_MARGIN_PX = 6  # each side of a permanent label
LABEL_SPACING_PX = 8  # between permanent labels (the bar's layout spacing, with a little to spare)
MESSAGE_GAP_PX = 24  # between the message's end and the first label, and for the bar's own margins
SIZE_GRIP_PX = 16
FEWEST_SHOWN_PX = 40  # an elided label narrower than this says nothing: hidden until there is room again


class StatusLabel(QtWidgets.QLabel):
    """A one-line label that says when its text changes and, if `elide` is set, may be narrower than its text:
    it then shows the text elided and has the whole text as its tooltip."""

    text_set = QtCore.pyqtSignal()

    def __init__(self, elide: QtCore.Qt.TextElideMode | None = None) -> None:
        super().__init__()
        self.elide = elide
        self.setContentsMargins(LABEL_MARGIN_PX, 0, LABEL_MARGIN_PX, 0)

    def setText(self, text: str) -> None:  # noqa: N802
        if text != self.text():
            super().setText(text)
            self._update_tooltip()
            self.text_set.emit()

    def natural_width(self) -> int:
        """The width that shows the whole text (0 without text)."""
        if not self.text():
            return 0
        margins = self.contentsMargins()
        return self.fontMetrics().horizontalAdvance(self.text()) + margins.left() + margins.right() + 2

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        return QtCore.QSize(0, hint.height()) if self.elide is not None else hint

    def elided(self) -> bool:
        return self.elide is not None and self.natural_width() > self.width()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_tooltip()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802
        if not self.elided():
            super().paintEvent(event)
            return
        painter = QtGui.QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), self.elide, rect.width())
        self.style().drawItemText(painter, rect, int(QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter), self.palette(),
                                  self.isEnabled(), shown, QtGui.QPalette.WindowText)

    def _update_tooltip(self) -> None:
        if self.elide is not None:
            self.setToolTip(self.text() if self.elided() else "")


class StatusLine(QtCore.QObject):
    """The window's permanent status-bar labels; `fit` shares the bar between the message and them."""

    def __init__(self, bar: QtWidgets.QStatusBar) -> None:
        super().__init__(bar)
        self.bar = bar
        self.cursor = StatusLabel()
        self.models = StatusLabel(QtCore.Qt.ElideRight)  # which models answer, whether ready, what they are doing
        self.frame = StatusLabel(QtCore.Qt.ElideRight)  # the frame's name first: what an elision keeps
        self.timing = StatusLabel()
        self.timing.setToolTip("Time from your last click to its mask on screen")
        for label in (self.cursor, self.models, self.frame, self.timing):
            bar.addPermanentWidget(label)
            label.text_set.connect(self.fit)
        bar.messageChanged.connect(self.fit)
        bar.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if watched is self.bar and event.type() == QtCore.QEvent.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        """The models and frame labels get what the message and the fixed labels leave, each in proportion to its
        whole text, never more than that."""
        message = self.bar.currentMessage()
        message_px = self.bar.fontMetrics().horizontalAdvance(message) if message else 0
        room = self.bar.width() - SIZE_GRIP_PX - MESSAGE_GAP_PX - message_px
        for label in (self.cursor, self.timing):  # numbers: shown whole or not at all
            label.setVisible(bool(label.text()))
            room -= label.natural_width() + LABEL_SPACING_PX if label.text() else 0
        elidable = [label for label in (self.models, self.frame) if label.text()]
        room -= LABEL_SPACING_PX * len(elidable)
        wanted = [label.natural_width() for label in elidable]
        for label, width in zip(elidable, wanted, strict=True):
            given = width if sum(wanted) <= room else max(room, 0) * width // sum(wanted)
            label.setMaximumWidth(given)
            label.setVisible(given >= min(width, FEWEST_SHOWN_PX))
        for label in {self.models, self.frame}.difference(elidable):
            label.setVisible(False)
