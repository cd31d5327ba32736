"""`python -m gui [PATH] [--demo] [--project DIR] [--screenshot FILE]`."""
from __future__ import annotations

import sys

from gui.app import run

if __name__ == "__main__":
    sys.exit(run())
