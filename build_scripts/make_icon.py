"""Draws the app icon into resources/icon/: the SVG (the source), PNGs rendered from it at the sizes desktops
ask for, and .ico/.icns for the Windows and macOS builds. The icon is an ultrasound sector with a nodule, its
outline as an accepted mask and one click on it, in the app's own overlay colours (gui/style.py).

    python build_scripts/make_icon.py      # rewrites resources/icon/*; commit the result
"""
from __future__ import annotations

import io
import math
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parents[1] / "resources" / "icon"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
VIEW = 256  # the SVG's coordinate system

APEX = (128.0, 32.0)  # the transducer: the sector fans out downwards from here
INNER_R, OUTER_R = 26.0, 198.0
HALF_ANGLE = math.radians(34)
NODULE = (128.0, 150.0, 44.0, 30.0, -12.0)  # cx, cy, rx, ry, rotation in degrees
CLICK = (141.0, 143.0)
OUTLINE = "#50dc64"  # style.MASK_ACCEPTED
CLICK_FILL = "#ffe600"  # style.CALIPER_LONG: the brightest overlay colour, visible at 16 px


def _polar(radius: float, angle: float) -> tuple[float, float]:
    """A point `radius` from the apex, `angle` radians from straight down (positive to the right)."""
    return APEX[0] + radius * math.sin(angle), APEX[1] + radius * math.cos(angle)


def sector_path() -> str:
    (ax, ay), (bx, by) = _polar(OUTER_R, -HALF_ANGLE), _polar(OUTER_R, HALF_ANGLE)
    (cx, cy), (dx, dy) = _polar(INNER_R, HALF_ANGLE), _polar(INNER_R, -HALF_ANGLE)
    return (f"M{ax:.1f},{ay:.1f} A{OUTER_R:.0f},{OUTER_R:.0f} 0 0 0 {bx:.1f},{by:.1f} "
            f"L{cx:.1f},{cy:.1f} A{INNER_R:.0f},{INNER_R:.0f} 0 0 1 {dx:.1f},{dy:.1f} Z")


def icon_svg() -> str:
    cx, cy, rx, ry, rot = NODULE
    kx, ky = CLICK
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{VIEW}" height="{VIEW}" viewBox="0 0 {VIEW} {VIEW}">
  <title>SonoClick</title>
  <defs>
    <radialGradient id="tissue" cx="{APEX[0]}" cy="{APEX[1]}" r="{OUTER_R}" gradientUnits="userSpaceOnUse">
      <stop offset="0.15" stop-color="#d9dde2"/>
      <stop offset="0.65" stop-color="#9aa3ad"/>
      <stop offset="1" stop-color="#5d6670"/>
    </radialGradient>
  </defs>
  <rect x="8" y="8" width="240" height="240" rx="44" fill="#17212b"/>
  <path d="{sector_path()}" fill="url(#tissue)"/>
  <g transform="rotate({rot} {cx} {cy})">
    <ellipse cx="{cx}" cy="{cy}" rx="{rx}" ry="{ry}" fill="#2b3138"/>
    <ellipse cx="{cx}" cy="{cy}" rx="{rx}" ry="{ry}" fill="none" stroke="{OUTLINE}" stroke-width="9"/>
  </g>
  <circle cx="{kx}" cy="{ky}" r="15" fill="{CLICK_FILL}" stroke="#17212b" stroke-width="6"/>
</svg>
"""


def render_png(svg: str, size: int) -> bytes:
    from PyQt5 import QtCore, QtGui, QtSvg

    image = QtGui.QImage(size, size, QtGui.QImage.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.Antialiasing)
    QtSvg.QSvgRenderer(QtCore.QByteArray(svg.encode())).render(painter)
    painter.end()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data())


def main() -> None:
    from PIL import Image
    from PyQt5 import QtGui

    _app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication(["make_icon"])  # Qt's SVG renderer needs one

    ICON_DIR.mkdir(parents=True, exist_ok=True)
    svg = icon_svg()
    (ICON_DIR / "sonoclick.svg").write_text(svg)
    for size in PNG_SIZES:
        (ICON_DIR / f"sonoclick-{size}.png").write_bytes(render_png(svg, size))
    largest = Image.open(io.BytesIO(render_png(svg, 1024)))
    largest.save(ICON_DIR / "sonoclick.ico", sizes=[(s, s) for s in PNG_SIZES if s <= 256])
    largest.save(ICON_DIR / "sonoclick.icns")
    print(f"wrote {ICON_DIR}: sonoclick.svg, {len(PNG_SIZES)} PNGs, .ico, .icns")


if __name__ == "__main__":
    main()
