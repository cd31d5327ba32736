"""The app's colours and sizes in one place. Chosen to stay apart on grey ultrasound for colour-blind readers
too: each overlay also differs in shape (fill vs outline, dot vs cross), never in hue alone."""
from __future__ import annotations

# Masks (RGB). Accepted = green, draft (not yet accepted) = sky blue, model prediction = magenta.
MASK_ACCEPTED = (80, 220, 100)
MASK_DRAFT = (60, 180, 255)
MASK_PREDICTED = (235, 80, 235)
# Confident / uncertain regions (HCL-HRL labels).
CONFIDENT_NODULE = (0, 200, 190)  # teal: not to be mistaken for an accepted (green) mask
UNCERTAIN = (255, 200, 40)
# Calipers: long axis yellow, short axis orange, as on most scanners; drawn over a dark outline.
CALIPER_LONG = (255, 230, 0)
CALIPER_SHORT = (255, 140, 0)
CALIPER_OUTLINE = (0, 0, 0)
CLICK_POSITIVE = (245, 245, 245)  # white, not the accepted mask's green
CLICK_NEGATIVE = (255, 70, 70)
SCRIBBLE_NODULE = CLICK_POSITIVE  # a scribble is a drawn run of clicks: white on nodule, red on background
SCRIBBLE_BACKGROUND = CLICK_NEGATIVE
BOX_OUTLINE = (235, 235, 235)  # dashed white: the legend's colours all mean pixels, a box means none
STROKE_OPACITY = 170  # of 255: the image stays readable under a wide scribble

DEFAULT_OPACITY = 0.35  # mask fill; its outline is always drawn opaque
LABEL_POINT_SIZE = 11  # caliper length labels, in screen points
LABEL_GAP_PX = 12  # screen pixels between a caliper end and its length label
HANDLE_PICK_PX = 12  # how near (screen pixels) a press must be to grab a caliper end

# Frame-list status colours (hex for Qt).
STATUS_COLOURS = {
    "unlabelled": "#9e9e9e",
    "calipers": "#f5c400",
    "mask draft": "#3cb4ff",
    "mask accepted": "#4cc764",
    "predicted only": "#e050e0",
    "unreadable": "#e53935",
}
