"""Starting the app: command line, Qt application, theme, logging and the error hook, the first project."""
from __future__ import annotations

import argparse
import sys
from importlib import metadata, resources
from pathlib import Path

import pyqtgraph as pg
from PyQt5 import QtGui, QtWidgets

from core.project.app_dirs import log_file
from core.serving.frame_model import app_model_process
from gui.errors import ErrorReporter, setup_logging
from gui.main_window import MainWindow
from gui.theme import apply_dark_theme

WINDOW_SIZE = (1280, 800)
ABOUT_ICON_PX = 96


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gui",
        description="SonoClick: annotate thyroid nodules on ultrasound frames with calipers and clicks.",
    )
    parser.add_argument("path", nargs="?", help="a folder of frames, an image, DICOM or video file, or a project "
                        "folder; a folder's project is kept in <folder>/.sonoclick")
    parser.add_argument("--demo", action="store_true", help="open generated sample frames in a temporary project")
    parser.add_argument("--project", metavar="DIR", help="keep the project in DIR instead of beside the frames")
    parser.add_argument("--screenshot", metavar="FILE", help="save the window as PNG once the first frame's mask "
                        "is shown, then exit")
    parser.add_argument("--size", metavar="WxH", default=f"{WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}",
                        help="window size in pixels (default %(default)s)")
    parser.add_argument("--tab", choices=("display", "training"), default="display",
                        help="the right-hand tab to show first (e.g. for --screenshot)")
    return parser


def app_icon() -> QtGui.QIcon:
    """The icon at every size in resources/icon/, read through importlib.resources (found when installed or
    frozen too) and loaded from bytes, since a QIcon built from file names reads them only when drawn."""
    icon = QtGui.QIcon()
    for entry in sorted(resources.files("resources").joinpath("icon").iterdir(), key=lambda e: e.name):
        if entry.name.startswith("sonoclick-") and entry.name.endswith(".png"):
            pixmap = QtGui.QPixmap()
            if pixmap.loadFromData(entry.read_bytes(), "PNG"):
                icon.addPixmap(pixmap)
    return icon


def about_box(parent: QtWidgets.QWidget) -> QtWidgets.QMessageBox:
    try:
        version = metadata.version("sonoclick")
    except metadata.PackageNotFoundError:
        version = "(run from source)"
    box = QtWidgets.QMessageBox(parent)
    box.setWindowTitle("About SonoClick")
    box.setIconPixmap(app_icon().pixmap(ABOUT_ICON_PX, ABOUT_ICON_PX))
    box.setText(f"<b>SonoClick</b> {version}")
    box.setInformativeText("Annotate thyroid nodules on ultrasound frames with calipers and clicks.")
    return box


def add_about_action(window: QtWidgets.QMainWindow) -> QtWidgets.QAction:
    """"About SonoClick" at the end of the Help menu."""
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    action = help_menu.addAction("&About SonoClick")
    action.triggered.connect(lambda: about_box(window).exec_())
    return action


def create_application(argv: list[str] | None = None) -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or [sys.argv[0]])
    app.setApplicationName("SonoClick")
    app.setWindowIcon(app_icon())
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    apply_dark_theme(app)
    return app  # type: ignore[return-value]


def build_window(reporter: ErrorReporter | None = None) -> MainWindow:
    """The main window, its model process started first: that process imports torch (seconds) while the window
    is built and the user picks a folder, so the first project's first prediction does not wait for it."""
    model_process = app_model_process()
    model_process.start()
    return MainWindow(reporter, model_process=model_process)


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.demo:
        return _run(args, None)
    from gui.demo import demo_project

    with demo_project() as frames:  # the temporary folder goes on every way out
        return _run(args, frames)


def _run(args: argparse.Namespace, demo_frames: Path | None) -> int:
    app = create_application()
    reporter = ErrorReporter(setup_logging(log_file()))
    reporter.install()
    window = build_window(reporter)
    model_process = window.model_process
    add_about_action(window)
    reporter.set_window(window)
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    if args.tab == "training":
        window.training_dock_widget.raise_()
    opened = True
    if demo_frames is not None:
        opened = window.open_path(demo_frames)
    elif args.path:
        opened = window.open_path(args.path, args.project)
    window.show()
    exit_code = [0]
    if args.screenshot:
        if not opened:
            print(f"error: cannot open {args.path}", file=sys.stderr)
            window.close_project()
            model_process.close()
            return 2
        from gui.screenshot import ScreenshotWhenReady

        def done(code: int) -> None:
            exit_code[0] = code
            window.close()
            app.exit(code)

        ScreenshotWhenReady(window, Path(args.screenshot), done)
    try:
        app.exec_()
    finally:
        window.close_project()
        model_process.close()
        reporter.uninstall()
    return exit_code[0]
