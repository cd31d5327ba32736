"""Calipers that measure an object the frame's content crop left out (a scanner layout the crop misreads: seen on
a BUSI frame whose lesion lies right of the detected content box) give no label instead of crashing the
segmenter on an empty region; calipers on the image still label their nodule."""
import numpy as np

from core.annotation.caliper_simulation import calipers_from_label_map
from core.annotation.points import Calipers
from core.training.synthetic import make_frame
from core.training.targets import caliper_targets, in_view


def test_calipers_off_the_image_are_left_out_and_the_rest_still_label() -> None:
    frame = make_frame(0, size=(96, 96))
    on_image = calipers_from_label_map(frame.mask)
    off_image = Calipers((130.0, 20.0), (190.0, 70.0), (150.0, 60.0), (170.0, 30.0))  # right of a 96 px image
    assert all(in_view(c, frame.image.shape) for c in on_image) and not in_view(off_image, frame.image.shape)
    alone = caliper_targets(frame.image, on_image)
    both = caliper_targets(frame.image, [*on_image, off_image])
    assert np.array_equal(alone, both) and alone[0].any()
    nothing = caliper_targets(frame.image, [off_image])
    assert not nothing[0].any() and not nothing[3].any()
