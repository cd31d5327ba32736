"""The part of the training tab that shows the loop paying off: which click network answers clicks (the starter,
a project version or the user's own), clicks per accepted mask over the session, and each click-network version
with its held-out clicks (NoC@85) against the model in use then. A view only, fed by gui/training_controller.py."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets

from core.learning.background_trainer import TrainingOutcome
from core.learning.versions import ModelVersion

CLICKS_COLOUR = (255, 200, 60)
MEAN_COLOUR = (80, 220, 100)
RUNNING_MEAN = 10  # frames in the running mean drawn over the clicks


def noc_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def click_version_row(version: ModelVersion, current: str | None) -> list[str]:
    """Version, its NoC@85 on held-out accepted masks, the model in use then on the same masks, whether in use."""
    verdict = "in use" if version.name == current else ("" if version.beats_baseline() else "not better")
    return [version.name, noc_text(version.val_dice), noc_text(version.baseline_val_dice), verdict]


def click_outcome_text(outcome: TrainingOutcome) -> str:
    """The click network's part of a run's result, for the status bar and the tab ("" when it made none)."""
    version = outcome.click_version
    if version is None:
        return f" Click network not trained: {outcome.click_note}." if outcome.click_note else ""
    score = (f"NoC@85 {noc_text(version.val_dice)} vs {noc_text(version.baseline_val_dice)} for the "
             f"{version.baseline or 'click model in use'} on {version.n_val} held-out masks")
    if outcome.click_switched:
        return f" Click network {version.name} ({score}) is now in use."
    return (f" Click network {version.name} saved ({score}); not used: not clearly better than the one in use "
            f"({version.judgement().reason}).")


class LearningPanel(QtWidgets.QWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.clicks: list[int] = []
        self.click_model_label = QtWidgets.QLabel("Click model: none")
        self.click_model_label.setWordWrap(True)
        self.clicks_plot = pg.PlotWidget()
        self.clicks_plot.setBackground((26, 26, 28))
        self.clicks_plot.setTitle("Clicks per accepted mask (lower is better)", size="8pt", color="#e1e1e1")
        self.clicks_plot.setLabel("bottom", "accepted mask")
        self.clicks_plot.showGrid(x=True, y=True, alpha=0.2)
        self.clicks_plot.setMenuEnabled(False)
        self.clicks_plot.setMouseEnabled(x=False, y=False)
        self.clicks_plot.hideButtons()
        self.clicks_plot.setFixedHeight(120)
        self.clicks_curve = self.clicks_plot.plot([], [], pen=None, symbol="o", symbolSize=4,
                                                  symbolBrush=CLICKS_COLOUR, symbolPen=None)
        self.mean_curve = self.clicks_plot.plot([], [], pen=pg.mkPen(MEAN_COLOUR, width=2))
        self.click_versions = QtWidgets.QTreeWidget()
        self.click_versions.setColumnCount(4)
        self.click_versions.setHeaderLabels(["Click version", "NoC@85", "Before", ""])
        self.click_versions.headerItem().setToolTip(1, "Clicks the simulated user needs for IoU 0.85 on held-out "
                                                       "accepted masks (lower is better)")
        self.click_versions.headerItem().setToolTip(2, "The click network in use then, on the same masks")
        self.click_versions.setRootIsDecorated(False)
        self.click_versions.setFocusPolicy(QtCore.Qt.NoFocus)
        self.click_versions.setMaximumHeight(110)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.click_model_label)
        layout.addWidget(self.clicks_plot)
        layout.addWidget(self.click_versions)

    def set_click_model(self, label: str) -> None:
        self.click_model_label.setText(f"Click model: {label}")

    def add_accepted(self, clicks: int) -> None:
        """One more accepted mask that took `clicks` clicks."""
        self.clicks.append(int(clicks))
        x = np.arange(1, len(self.clicks) + 1)
        values = np.asarray(self.clicks, float)
        self.clicks_curve.setData(x, values)
        mean = np.convolve(values, np.ones(RUNNING_MEAN), "full")[:len(values)]
        mean /= np.minimum(np.arange(1, len(values) + 1), RUNNING_MEAN)
        self.mean_curve.setData(x, mean)

    def set_click_versions(self, versions: list[ModelVersion], current: str | None) -> None:
        self.click_versions.clear()
        for version in reversed(versions):  # newest first
            item = QtWidgets.QTreeWidgetItem(click_version_row(version, current))
            item.setToolTip(0, f"{version.name}: NoC@85 {noc_text(version.val_dice)} on {version.n_val} held-out "
                               f"accepted masks; {version.baseline or 'no model'} then: "
                               f"{noc_text(version.baseline_val_dice)}")
            self.click_versions.addTopLevelItem(item)

    def click_version_rows(self) -> list[list[str]]:
        return [[self.click_versions.topLevelItem(i).text(c) for c in range(4)]
                for i in range(self.click_versions.topLevelItemCount())]

