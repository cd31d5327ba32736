"""SonoClick's desktop app (PyQt5 + pyqtgraph): views and controllers only; every algorithm lives in core/.

Importing this package has no side effects; `python -m gui` starts the app (see gui/__main__.py)."""
