"""resources/: the app icon is there at every size, is what the window and the About box show, and is read
through importlib.resources (so an installed or frozen app finds it)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from importlib import resources  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PyQt5 import QtWidgets  # noqa: E402

from gui.app import about_box, add_about_action, app_icon, create_application  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def test_the_icon_is_drawn_at_every_size_with_transparent_corners() -> None:
    icon_dir = resources.files("resources") / "icon"
    for size in PNG_SIZES:
        with Image.open(icon_dir / f"sonoclick-{size}.png") as png:
            assert png.size == (size, size) and png.mode == "RGBA"
            alpha = np.asarray(png)[..., 3]
        assert alpha[0, 0] == 0 and alpha[-1, -1] == 0  # rounded corners
        assert alpha[size // 2, size // 2] == 255
    with Image.open(icon_dir / "sonoclick.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    assert "<svg" in (icon_dir / "sonoclick.svg").read_text()


def test_the_window_and_the_about_box_show_the_icon(qtbot) -> None:
    app = create_application()
    assert {(s.width(), s.height()) for s in app_icon().availableSizes()} == {(s, s) for s in PNG_SIZES}
    assert not app.windowIcon().isNull()
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    window.menuBar().addMenu("&Help")
    assert add_about_action(window).text() == "&About SonoClick"
    assert window.windowIcon().cacheKey() == app.windowIcon().cacheKey()
    box = about_box(window)
    qtbot.addWidget(box)
    assert "SonoClick" in box.text() and box.iconPixmap().width() == 96


def test_the_built_app_bundles_resources_and_uses_the_icon() -> None:
    spec = (REPO / "build_scripts" / "sonoclick.spec").read_text()
    assert 'datas=[(RESOURCES, "resources")]' in spec and '"resources"' in spec
    assert "icon=ICON" in spec and "sonoclick.ico" in spec and "sonoclick.icns" in spec
