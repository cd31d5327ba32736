import pytest

from core.annotation.strokes import Stroke, StrokeKind, box_inside, scribble_pixels


def test_scribble_covers_its_polyline_at_its_width():
    s = Stroke(StrokeKind.SCRIBBLE, ((2.0, 10.0), (30.0, 10.0)), foreground=False, width=5)
    px = scribble_pixels(s, (20, 40))
    assert px[10, 2:31].all() and px[8, 15] and px[12, 15]
    assert not px[5, 15] and not px[10, 35]


def test_box_inside_is_clipped_and_ordered():
    b = Stroke(StrokeKind.BOX, ((30.0, 15.0), (-5.0, 4.0)))
    inside = box_inside(b, (20, 20))
    assert b.box_xyxy == (-5.0, 4.0, 30.0, 15.0)
    assert inside[4:16, :].all() and not inside[:4].any() and not inside[16:].any()


@pytest.mark.parametrize("stroke", [
    dict(kind=StrokeKind.BOX, points=((0.0, 0.0), (1.0, 1.0), (2.0, 2.0))),
    dict(kind=StrokeKind.BOX, points=((0.0, 0.0), (1.0, 1.0)), foreground=False),
    dict(kind=StrokeKind.SCRIBBLE, points=()),
    dict(kind=StrokeKind.SCRIBBLE, points=((float("nan"), 0.0),)),
    dict(kind=StrokeKind.SCRIBBLE, points=((0.0, 0.0),), width=0),
])
def test_malformed_strokes_are_refused(stroke):
    with pytest.raises(ValueError):
        Stroke(**stroke)
