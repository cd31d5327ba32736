"""The model-training dock: what the background trainer is doing (state, epoch, time left, why it failed), a live
plot of validation Dice and the loss terms per epoch, Train / Stop / Cancel, and the project's model versions with
Pin / Unpin. A view only: gui/training_controller.py drives it; nothing here blocks or opens a modal dialog."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from core.learning.versions import ModelVersion
from gui.learning_panel import LearningPanel

STATE_TEXT = {
    "idle": ("Idle — no training running", "#9e9e9e"),
    "starting": ("Starting — copying the labels…", "#3cb4ff"),
    "training": ("Training…", "#3cb4ff"),
    "evaluating": ("Evaluating on held-out frames…", "#3cb4ff"),
    "finished": ("Finished", "#4cc764"),
    "stopped": ("Stopped early — best model so far kept", "#4cc764"),
    "cancelled": ("Cancelled — nothing kept", "#9e9e9e"),
    "failed": ("Failed", "#e53935"),
}
# Okabe-Ito hues, ordered so that the first curves differ most (no two oranges or two blues side by side).
LOSS_COLOURS = [(86, 180, 233), (230, 159, 0), (204, 121, 167), (240, 228, 66), (0, 158, 115), (213, 94, 0)]
BUTTON_PADDING_PX = 8  # each side of a button's text
DICE_COLOUR = (80, 220, 100)


def duration_text(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def dice_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def version_row(version: ModelVersion, current: str | None, pinned: bool) -> list[str]:
    """Version, its validation Dice, the Dice of the model in use then on the same frames, whether in use."""
    before = "none" if version.baseline_val_dice is None else dice_text(version.baseline_val_dice)
    use = ""
    if version.name == current:
        use = "in use · pinned" if pinned else "in use"
    return [version.name, dice_text(version.val_dice), before, use]


def version_details(version: ModelVersion) -> str:
    judgement = version.judgement()
    verdict = "better than" if judgement.better else "not better than"
    before = "no model" if version.baseline_val_dice is None else dice_text(version.baseline_val_dice)
    compared = f"{verdict} the model in use then ({before}): {judgement.reason}"
    return (f"{version.name}: Dice {dice_text(version.val_dice)} on {version.n_val} held-out frames "
            f"({version.validated_on or '?'}); {compared}")


class TrainingDock(QtWidgets.QWidget):
    train_clicked = QtCore.pyqtSignal()
    stop_clicked = QtCore.pyqtSignal()
    cancel_clicked = QtCore.pyqtSignal()
    pin_requested = QtCore.pyqtSignal(str)  # a version name
    unpin_requested = QtCore.pyqtSignal()
    next_useful_clicked = QtCore.pyqtSignal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = "idle"
        self.epochs_total: int | None = None
        self._loss_curves: dict[str, pg.PlotDataItem] = {}
        self._loss_points: dict[str, tuple[list[float], list[float]]] = {}
        self._dice_points: tuple[list[float], list[float]] = ([], [])

        self._build_labels()
        buttons = self._build_run_buttons()
        self._build_plots()
        version_buttons = self._build_versions()
        self._build_layout(buttons, version_buttons)
        self._pinned = False
        self._current: str | None = None
        self._by_name: dict[str, ModelVersion] = {}
        self.set_state("idle")
        self.set_project_open(False)

    def _build_labels(self) -> None:
        self.state_label = QtWidgets.QLabel()
        font = self.state_label.font()
        font.setBold(True)
        self.state_label.setFont(font)
        self.state_label.setWordWrap(True)
        self.progress_label = QtWidgets.QLabel("")
        self.progress_label.setWordWrap(True)
        self.data_label = QtWidgets.QLabel("")
        self.data_label.setWordWrap(True)
        self.reason_label = QtWidgets.QLabel("")
        self.reason_label.setWordWrap(True)
        self.reason_label.setStyleSheet("color: #ff8a80;")
        self.reason_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.reason_label.hide()
        self.auto_label = QtWidgets.QLabel("")
        self.auto_label.setWordWrap(True)
        self.auto_label.setStyleSheet("color: #9e9e9e;")

    def _build_run_buttons(self) -> QtWidgets.QHBoxLayout:
        self.train_button = QtWidgets.QPushButton("Train")
        self.train_button.setToolTip("Train the model now on every labelled frame, in the background (Ctrl+T)")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setToolTip("Finish now and keep the best model so far as a new version")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Abandon this training; nothing from it is kept")
        buttons = QtWidgets.QHBoxLayout()
        for button in (self.train_button, self.stop_button, self.cancel_button):
            button.setFocusPolicy(QtCore.Qt.NoFocus)
            buttons.addWidget(button)
        self.train_button.clicked.connect(self.train_clicked)
        self.stop_button.clicked.connect(self.stop_clicked)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        return buttons

    def _build_plots(self) -> None:
        self.dice_plot = self._plot("Validation Dice (higher is better)", (0.0, 1.0))
        self.loss_plot = self._plot("Training losses (lower is better)", None)
        self.loss_legend = QtWidgets.QLabel("")  # under the plot, not over its curves
        self.loss_legend.setTextFormat(QtCore.Qt.RichText)
        self.loss_legend.setWordWrap(True)
        self.dice_curve = self.dice_plot.plot([], [], pen=pg.mkPen(DICE_COLOUR, width=2), symbol="o", symbolSize=5,
                                              symbolBrush=DICE_COLOUR, symbolPen=None)

    def _build_versions(self) -> QtWidgets.QHBoxLayout:
        self.versions = QtWidgets.QTreeWidget()
        self.versions.setColumnCount(4)
        self.versions.setHeaderLabels(["Version", "Dice", "Before", ""])
        self.versions.headerItem().setToolTip(1, "Validation Dice of this version (0-1, higher is better)")
        self.versions.headerItem().setToolTip(2, "Dice of the model in use when it was trained, on the same frames")
        self.versions.setRootIsDecorated(False)
        self.versions.setAlternatingRowColors(True)
        self.versions.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.versions.setFocusPolicy(QtCore.Qt.NoFocus)
        self.versions.setMinimumHeight(90)
        self.versions.setToolTip("Every finished training run. The app switches to a new version only when it "
                                 "scores a higher Dice than the one in use on the same held-out frames.")
        header = self.versions.header()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.version_label = QtWidgets.QLabel("No model trained yet")
        self.version_label.setWordWrap(True)
        self.version_label.setStyleSheet("color: #9e9e9e;")
        self.pin_button = QtWidgets.QPushButton("Pin selected")
        self.pin_button.setToolTip("Use the selected version from now on, whatever later runs score "
                                   "(also how to roll back)")
        self.unpin_button = QtWidgets.QPushButton("Unpin")
        self.unpin_button.setToolTip("Let better new versions replace the one in use again")
        self.pin_button.clicked.connect(self._pin_selected)
        self.unpin_button.clicked.connect(self.unpin_requested)
        self.versions.itemSelectionChanged.connect(self._update_version_buttons)
        version_buttons = QtWidgets.QHBoxLayout()
        for button in (self.pin_button, self.unpin_button):
            button.setFocusPolicy(QtCore.Qt.NoFocus)
            version_buttons.addWidget(button)
        self.next_button = QtWidgets.QPushButton("Most useful frame (M)")
        self.next_button.setToolTip("Go to the unlabelled frame the model is least sure about")
        self.next_button.setFocusPolicy(QtCore.Qt.NoFocus)
        self.next_button.clicked.connect(self.next_useful_clicked)
        return version_buttons

    def _build_layout(self, buttons: QtWidgets.QHBoxLayout, version_buttons: QtWidgets.QHBoxLayout) -> None:
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.state_label)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.data_label)
        layout.addLayout(buttons)
        layout.addWidget(self.auto_label)
        layout.addWidget(self.dice_plot)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.loss_legend)
        versions_title = QtWidgets.QLabel("Model versions")
        versions_title.setFont(self.state_label.font())
        layout.addWidget(versions_title)
        layout.addWidget(self.versions, 1)
        layout.addWidget(self.version_label)
        layout.addLayout(version_buttons)
        layout.addWidget(self.next_button)
        self.learning = LearningPanel(self)  # clicks per accepted mask and the click network's versions
        layout.addWidget(self.learning)
        for button in self.findChildren(QtWidgets.QPushButton):  # the style's 80 px minimum would overflow the dock
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance(button.text()) + 2 * BUTTON_PADDING_PX)
            button.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed)

    @staticmethod
    def _plot(title: str, y_range: tuple[float, float] | None) -> pg.PlotWidget:
        plot = pg.PlotWidget()
        plot.setBackground((26, 26, 28))
        plot.setTitle(title, size="8pt", color="#e1e1e1")
        plot.setLabel("bottom", "epoch")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setFixedHeight(135)
        for name in ("left", "bottom"):  # visible ticks and tick labels on the dark background
            axis = plot.getPlotItem().getAxis(name)
            axis.setPen(pg.mkPen("#9e9e9e"))
            axis.setTextPen(pg.mkPen("#e1e1e1"))
            axis.setStyle(tickLength=-5, showValues=True)
        if y_range is not None:
            plot.setYRange(*y_range, padding=0.02)
            plot.enableAutoRange(axis="y", enable=False)
            plot.getPlotItem().getAxis("left").setTicks([[(v, f"{v:g}") for v in (0.0, 0.5, 1.0)]])
        return plot

    # ----- state ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.state in ("starting", "training", "evaluating")

    def set_project_open(self, open_: bool) -> None:
        self.setEnabled(open_)
        if not open_:
            self.versions.clear()
            self.auto_label.setText("Open a project to train a model on its labels")

    def set_state(self, state: str, reason: str | None = None) -> None:
        self.state = state
        text, colour = STATE_TEXT.get(state, (state, "#e1e1e1"))
        self.state_label.setText(text)
        self.state_label.setStyleSheet(f"color: {colour};")
        self.reason_label.setText(f"Why: {reason}" if reason and state == "failed" else "")
        self.reason_label.setVisible(bool(reason) and state == "failed")
        self.train_button.setEnabled(not self.running)
        self.stop_button.setEnabled(state == "training")
        self.cancel_button.setEnabled(self.running)

    def start_run(self, epochs_total: int | None) -> None:
        """A new run: clear the plot and the run's texts."""
        self.epochs_total = epochs_total
        for curve in self._loss_curves.values():
            self.loss_plot.removeItem(curve)
        self._loss_curves.clear()
        self._loss_points.clear()
        self.loss_legend.setText("")
        self._dice_points = ([], [])
        self.dice_curve.setData([], [])
        self.progress_label.setText("")
        self.data_label.setText("")
        self.set_state("starting")

    def show_data(self, event: dict) -> None:
        n_val = event.get("n_val", "?")
        learning = f"Learning from {event.get('n_train', '?')} labelled frames; "
        if n_val == 0:
            self.data_label.setText(learning + "too few to spare held-out frames to judge it by: the new model is "
                                               "kept as a version, not used by itself")
            return
        self.data_label.setText(learning + f"checking on {n_val} held-out frame{'' if n_val == 1 else 's'} "
                                           f"({event.get('validated_on', '?')})")

    def show_progress(self, event: dict) -> None:
        """Any progress event: the epoch and the time left."""
        epoch = int(event.get("epoch", 0))
        of = f" of {self.epochs_total}" if self.epochs_total else ""
        parts = [f"Epoch {epoch}{of}", f"{duration_text(event.get('elapsed_s'))} elapsed"]
        if event.get("eta_s") is not None:
            parts.append(f"about {duration_text(event.get('eta_s'))} left")
        best = event.get("best_val_dice")
        if best is not None:
            parts.append(f"best Dice {best:.3f}")
        self.progress_label.setText("  ·  ".join(parts))

    def add_epoch(self, event: dict) -> None:
        """An epoch ended: one more point per loss term and for the validation Dice."""
        self.show_progress(event)
        epoch = float(event.get("epoch", len(self._dice_points[0]) + 1))
        for name, value in sorted((event.get("losses") or {}).items()):
            if value is None or not math.isfinite(float(value)):
                continue
            xs, ys = self._loss_points.setdefault(name, ([], []))
            xs.append(epoch)
            ys.append(float(value))
            curve = self._loss_curves.get(name)
            if curve is None:
                colour = LOSS_COLOURS[len(self._loss_curves) % len(LOSS_COLOURS)]
                curve = self.loss_plot.plot([], [], pen=pg.mkPen(colour, width=2), name=name.replace("_", " "))
                self._loss_curves[name] = curve
                self.loss_legend.setText(self._legend_text())
            curve.setData(xs, ys)
        step = max(1, math.ceil(epoch / 5))  # whole epochs on the axis
        for plot in (self.dice_plot, self.loss_plot):
            plot.getPlotItem().getAxis("bottom").setTickSpacing(step, step)
        if event.get("val_dice") is not None:
            self._dice_points[0].append(epoch)
            self._dice_points[1].append(float(event["val_dice"]))
            self.dice_curve.setData(*self._dice_points)

    def _legend_text(self) -> str:
        entries = []
        for name, curve in self._loss_curves.items():
            colour = curve.opts["pen"].color().name()
            entries.append(f'<span style="color:{colour}">&#9632;</span>&nbsp;{name.replace("_", " ")}')
        return "&nbsp;&nbsp; ".join(entries)

    @property
    def plotted_epochs(self) -> int:
        return max([len(self._dice_points[0])] + [len(xs) for xs, _ in self._loss_points.values()])

    def show_result(self, text: str) -> None:
        self.progress_label.setText(text)

    def add_note(self, text: str) -> None:
        """One more line under the run's result (e.g. the predictions refreshed with the new model)."""
        first = self.progress_label.text().split("\n")[0]
        self.progress_label.setText(f"{first}\n{text}" if first else text)

    def set_auto(self, new_frames: int, threshold: int) -> None:
        if threshold > 0:
            self.auto_label.setText(f"Trains by itself after {threshold} newly labelled frames "
                                    f"({new_frames} so far)")
        else:
            self.auto_label.setText("Automatic training is off")

    # ----- versions ------------------------------------------------------------------------------------
    def set_versions(self, versions: list[ModelVersion], current: str | None, pinned: bool) -> None:
        selected = self.selected_version()
        self._pinned = pinned
        self._current = current
        self._by_name = {v.name: v for v in versions}
        self.versions.clear()
        bold = QtGui.QFont(self.versions.font())
        bold.setBold(True)
        for version in reversed(versions):  # newest first
            item = QtWidgets.QTreeWidgetItem(version_row(version, current, pinned))
            item.setData(0, QtCore.Qt.UserRole, version.name)
            item.setToolTip(0, f"{version_details(version)}\ncreated {version.created_at}")
            if version.name == current:
                for column in range(4):
                    item.setFont(column, bold)
            self.versions.addTopLevelItem(item)
            if version.name == selected:
                item.setSelected(True)
        self._update_version_buttons()

    def selected_version(self) -> str | None:
        items = self.versions.selectedItems()
        return items[0].data(0, QtCore.Qt.UserRole) if items else None

    def version_names(self) -> list[str]:
        return [self.versions.topLevelItem(i).data(0, QtCore.Qt.UserRole)
                for i in range(self.versions.topLevelItemCount())]

    def version_use(self, name: str) -> str:
        for i in range(self.versions.topLevelItemCount()):
            item = self.versions.topLevelItem(i)
            if item.data(0, QtCore.Qt.UserRole) == name:
                return item.text(3)
        return ""

    def _update_version_buttons(self) -> None:
        shown = self.selected_version() or self._current
        version = self._by_name.get(shown) if shown else None
        self.version_label.setText(version_details(version) if version else
                                   ("No model trained yet" if not self._by_name else ""))
        self.pin_button.setEnabled(self.selected_version() is not None)
        self.unpin_button.setEnabled(self._pinned)

    def _pin_selected(self) -> None:
        name = self.selected_version()
        if name is not None:
            self.pin_requested.emit(name)
