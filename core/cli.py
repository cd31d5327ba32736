"""`python -m core COMMAND ...`: each command lives in core/commands/<name>.py with add_arguments(parser) and
run(args) -> dict | None. Commands are imported only when chosen, so `labels` never pays for torch."""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from core.errors import SonoClickError

COMMANDS = {
    "labels": "high-confidence labels from calipers (or calipers simulated from masks)",
    "bench-interactive": "clicks-to-quality benchmark of the interactive engine (RITM protocol)",
    "train": "train a segmentation network from calipers, clicks or masks",
    "predict": "predict masks for images with a trained model",
    "evaluate": "Dice / IoU / HD95 of a trained model on a dataset",
    "train-project": "background training job on a project snapshot (started by the app)",
    "propagate": "carry a nodule through a clip from one frame (optical flow + the interactive engine)",
    "import": "import annotations (png, points, coco, dicom-seg, labelme, cvat) into a project",
    "export": "export a project's accepted annotations (png, points, coco, dicom-seg, labelme, cvat, csv)",
}


def _module(name: str):
    return importlib.import_module(f"core.commands.{name.replace('-', '_')}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m core", description="SonoClick headless tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = argv[0] if argv and argv[0] in COMMANDS else None
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _module(name).add_arguments(p)
    args = parser.parse_args(argv)
    try:
        result = _module(args.command).run(args)
    except SonoClickError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if result is not None:
        print(json.dumps(result), flush=True)
    return 0
