"""Entry point of the built app. `SonoClick --selftest` checks the installation headless; `SonoClick -m core
...` runs the headless CLI (the background trainer starts its child this way, since a frozen app has no
separate Python); anything else opens the desktop app."""
from __future__ import annotations

import multiprocessing
import runpy
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
    sys.argv = [sys.argv[0], *args]
    runpy.run_module("gui", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
