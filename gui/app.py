"""Starting the app: command line, Qt application, theme, logging and the error hook, the first project."""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pyqtgraph as pg
from PyQt5 import QtWidgets

from core.project.app_dirs import log_file
from gui.errors import ErrorReporter, setup_logging
from gui.main_window import MainWindow
from gui.theme import apply_dark_theme

WINDOW_SIZE = (1280, 800)


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
    return parser


def create_application(argv: list[str] | None = None) -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or [sys.argv[0]])
    app.setApplicationName("SonoClick")
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    apply_dark_theme(app)
    return app  # type: ignore[return-value]


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    app = create_application()
    reporter = ErrorReporter(setup_logging(log_file()))
    reporter.install()
    window = MainWindow(reporter)
    reporter.set_window(window)
    window.resize(*WINDOW_SIZE)
    demo_root: Path | None = None
    opened = True
    if args.demo:
        from gui.demo import create_demo_project

        frames = create_demo_project()
        demo_root = frames.parent
        opened = window.open_path(frames)
    elif args.path:
        opened = window.open_path(args.path, args.project)
    window.show()
    exit_code = [0]
    if args.screenshot:
        if not opened:
            print(f"error: cannot open {args.path}", file=sys.stderr)
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
        reporter.uninstall()
        if demo_root is not None:
            shutil.rmtree(demo_root, ignore_errors=True)
    return exit_code[0]
