"""Every keyboard shortcut in one table (the main window builds its actions from it) and the help dialog (?)."""
from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

# action name -> (keys, description). The first key is the one shown in menus and tooltips.
SHORTCUTS: dict[str, tuple[list[str], str]] = {
    "calipers": (["C"], "Caliper tool: two clicks for the long axis, two for the short axis; drag an end to move it"),
    "clicks": (["K"], "Click tool: left click = nodule, right click = background"),
    "brush": (["B"], "Brush: paint into the current nodule's mask"),
    "eraser": (["E"], "Eraser: erase from the current nodule's mask"),
    "scribble": (["S"], "Scribble: drag over the nodule (left) or the background (right); the mask follows"),
    "box": (["R"], "Box: drag a rectangle round a nodule; its outside becomes background"),
    "point": (["D"], "Point: one left click on each nodule (the quickest label); right click = background"),
    "brush_smaller": (["["], "Smaller brush (with the scribble tool: thinner scribble)"),
    "brush_larger": (["]"], "Larger brush (with the scribble tool: wider scribble)"),
    "new_object": (["O"], "New object of the selected class on this frame"),
    "delete_object": (["Delete", "Backspace"], "Delete the current object (points and mask)"),
    "accept": (["Return", "Enter"], "Accept the mask(s) of this frame"),
    "tag_no_nodule": (["0"], "Tag this frame (or the frames selected in the list) no nodule; asks before removing "
                      "nodules drawn on them"),
    "tag_nodule": (["Y"], "Tag this frame (or the frames selected in the list) nodule present (yes), without "
                   "drawing"),
    "clear_tag": (["Ctrl+0"], "Clear the tag of this frame (or of the frames selected in the list)"),
    "tag_range": (["T"], "Mark this frame as the first of a range to tag: step to its last frame (N / P, the cine "
                  "slider, play), then 0 / Y / Ctrl+0 tag every frame from the mark to the shown one as one undo "
                  "step; T again drops the mark"),
    "propose": (["G"], "Propose a nodule on this frame (tagged nodule present, or untagged without objects): the "
                "trained model's mask becomes a draft that clicks refine and Enter accepts"),
    "undo": (["Ctrl+Z"], "Undo the last edit on this frame"),
    "redo": (["Ctrl+Shift+Z", "Ctrl+Y"], "Redo"),
    "next": (["N", "Right", "Down"], "Next frame (in the list as filtered)"),
    "previous": (["P", "Left", "Up"], "Previous frame"),
    "next_unlabelled": (["U"], "Next frame without a human annotation (frames tagged no nodule are skipped)"),
    "next_useful": (["M"], "Next most useful frame: the unlabelled frame the model is least sure about"),
    "click_model": (["Ctrl+Shift+K"], "Choose the click network that answers clicks (a model file trained "
                    "to follow clicks)"),
    "calibrate": (["L"], "Calibrate: click two points a known distance apart (e.g. two ruler ticks), then type the "
                  "distance, for millimetres on frames whose file gives no pixel size"),
    "train": (["Ctrl+T"], "Train the model now on the labelled frames (in the background)"),
    "toggle_overlay": (["Space"], "Show / hide the masks"),
    "toggle_confidence": (["H"], "Show / hide confident and uncertain regions"),
    "play": (["Shift+Space"], "Play / pause a cine loop or video"),
    "propagate": (["Ctrl+P"], "Propagate the current nodule through the clip from this frame, both ways (on a "
                  "corrected draft: re-propagate up to the next key frames)"),
    "propagate_forward": (["Ctrl+Shift+Right"], "Propagate forward only"),
    "propagate_backward": (["Ctrl+Shift+Left"], "Propagate backward only"),
    "accept_range": (["Ctrl+Shift+Return"], "Accept the masks of every propagated frame of the clip"),
    "cancel_propagation": (["Ctrl+."], "Cancel the propagation (finished frames keep their drafts)"),
    "fit": (["F"], "Fit the frame to the window"),
    "export": (["Ctrl+E"], "Export and import"),
    "import": (["Ctrl+I"], "Import annotations (PNG, point JSON, COCO, DICOM-SEG, labelme, CVAT, frame tags CSV) "
                "with a preview"),
    "open_folder": (["Ctrl+O"], "Open a folder of frames (or a project)"),
    "open_file": (["Ctrl+Shift+O"], "Open an image, DICOM or video file"),
    "help": (["?", "F1"], "This help"),
    "quit": (["Ctrl+Q"], "Quit (everything is already saved)"),
}

# action name -> its label in menus and the toolbar
TITLES: dict[str, str] = {
    "calipers": "Calipers",
    "clicks": "Clicks",
    "brush": "Brush",
    "eraser": "Eraser",
    "scribble": "Scribble",
    "box": "Box",
    "point": "Point",
    "brush_smaller": "Smaller brush",
    "brush_larger": "Larger brush",
    "new_object": "New object",
    "delete_object": "Delete object",
    "accept": "Accept",
    "tag_no_nodule": "Tag no nodule",
    "tag_nodule": "Tag nodule present",
    "clear_tag": "Clear tag",
    "tag_range": "Mark tag range start",
    "propose": "Propose",
    "undo": "Undo",
    "redo": "Redo",
    "next": "Next",
    "previous": "Previous",
    "next_unlabelled": "Next unlabelled",
    "next_useful": "Next most useful",
    "click_model": "Click model…",
    "calibrate": "Calibrate…",
    "train": "Train model",
    "toggle_overlay": "Show masks",
    "toggle_confidence": "Certainty map",
    "play": "Play / pause",
    "propagate": "Propagate both ways",
    "propagate_forward": "Propagate forward",
    "propagate_backward": "Propagate backward",
    "accept_range": "Accept propagated range",
    "cancel_propagation": "Cancel propagation",
    "fit": "Fit to window",
    "export": "Export…",
    "import": "Import annotations…",
    "open_folder": "Open folder…",
    "open_file": "Open file…",
    "help": "Shortcuts (?)",
    "quit": "Quit",
}

# Label classes by their place in the toolbar list: name -> (key pattern, keys as the help shows them, description)
CLASS_SHORTCUTS: dict[str, tuple[str, str, str]] = {
    "select_class": ("{}", "1 … 9", "Label class 1-9 (the toolbar's class list): the current object becomes that "
                     "class's object on this frame; new calipers, clicks and brush strokes get the class"),
    "set_class": ("Ctrl+{}", "Ctrl+1 … Ctrl+9", "Give the current object class 1-9 (one undoable step)"),
}
CLASS_KEY_COUNT = 9


def class_keys(name: str) -> list[str]:
    """The nine keys of a class shortcut, for classes 1-9."""
    return [CLASS_SHORTCUTS[name][0].format(k) for k in range(1, CLASS_KEY_COUNT + 1)]


def all_keys() -> list[str]:
    """Every key the window binds (a key listed twice would be ambiguous: Qt then triggers neither)."""
    return [k for keys, _ in SHORTCUTS.values() for k in keys] + [k for n in CLASS_SHORTCUTS for k in class_keys(n)]


MOUSE_HELP = [
    ("Wheel", "Zoom at the mouse"),
    ("Left drag (off a caliper end)", "Pan (the scribble and box tools draw instead, brush and eraser paint); "
     "middle drag pans with every tool"),
    ("Right drag", "Window / level (horizontal = width, vertical = centre); with brush, eraser and scribble: "
     "erase / background scribble"),
    ("Right click", "Background click (caliper, click, box and point tools): removes that region from the mask"),
    ("Shift / Ctrl click in the frame list", "Select a range of frames (to tag them at once)"),
]


def keys_text(name: str) -> str:
    return " / ".join(SHORTCUTS[name][0])


class ShortcutsDialog(QtWidgets.QDialog):
    """Non-modal: it can stay open beside the frame while annotating."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("SonoClick shortcuts")
        self.setModal(False)
        rows = [(keys_text(name), text) for name, (_, text) in SHORTCUTS.items()]
        rows += [(shown, text) for _, shown, text in CLASS_SHORTCUTS.values()] + MOUSE_HELP
        table = QtWidgets.QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Key / mouse", "Action"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        for row, (keys, text) in enumerate(rows):
            table.setItem(row, 0, QtWidgets.QTableWidgetItem(keys))
            table.setItem(row, 1, QtWidgets.QTableWidgetItem(text))
        table.setWordWrap(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.Stretch)
        table.resizeRowsToContents()
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(close, 0, QtCore.Qt.AlignRight)
        self.resize(780, 700)
