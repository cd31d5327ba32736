"""Entry point of the built app. `SonoClick --selftest` checks the installation headless; `SonoClick -m core
...` runs the headless CLI (the background trainer starts its child this way, since a frozen app has no
separate Python); anything else opens the desktop app."""
from __future__ import annotations

import multiprocessing
import sys


def main() -> int:
    multiprocessing.freeze_support()  # the app's model process re-enters this executable
    args = sys.argv[1:]
    if "--selftest" in args:
        from core.selftest import main as selftest

        return selftest()
    if args[:2] == ["-m", "core"]:
        from core.cli import main as cli

        return cli(args[2:])
    from gui.app import run

    return run()


if __name__ == "__main__":
    sys.exit(main())
