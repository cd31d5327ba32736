"""`python -m gui [PATH] [--demo] [--project DIR] [--screenshot FILE]`."""
from __future__ import annotations

import multiprocessing
import sys

from gui.app import run

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen build's model process (core/serving) must not open a window
    sys.exit(run())
