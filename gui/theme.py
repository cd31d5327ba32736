"""A dark Fusion theme: ultrasound is read in dim rooms, and a dark frame around the image keeps the eye on it."""
from __future__ import annotations

from PyQt5 import QtGui, QtWidgets


def apply_dark_theme(app: QtWidgets.QApplication) -> None:
    app.setStyle("Fusion")
    palette = QtGui.QPalette()
    colours = {
        QtGui.QPalette.Window: (37, 37, 40),
        QtGui.QPalette.WindowText: (225, 225, 225),
        QtGui.QPalette.Base: (26, 26, 28),
        QtGui.QPalette.AlternateBase: (44, 44, 48),
        QtGui.QPalette.ToolTipBase: (50, 50, 55),
        QtGui.QPalette.ToolTipText: (235, 235, 235),
        QtGui.QPalette.Text: (225, 225, 225),
        QtGui.QPalette.Button: (50, 50, 54),
        QtGui.QPalette.ButtonText: (225, 225, 225),
        QtGui.QPalette.BrightText: (255, 80, 80),
        QtGui.QPalette.Highlight: (45, 110, 180),
        QtGui.QPalette.HighlightedText: (255, 255, 255),
        QtGui.QPalette.Link: (90, 170, 255),
    }
    for role, rgb in colours.items():
        palette.setColor(role, QtGui.QColor(*rgb))
    for role in (QtGui.QPalette.Text, QtGui.QPalette.ButtonText, QtGui.QPalette.WindowText):
        palette.setColor(QtGui.QPalette.Disabled, role, QtGui.QColor(120, 120, 120))
    app.setPalette(palette)
