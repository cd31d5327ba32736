import numpy as np

from core.annotation.clicks import Click
from core.interactive.robot_user import next_click


def test_first_click_goes_to_the_centre_of_a_missed_nodule():
    truth = np.zeros((9, 9), bool)
    truth[2:7, 1:8] = True  # 5 rows x 7 cols: the centre row 4 is 3 px from the top and bottom edges
    click = next_click(truth, np.zeros_like(truth))
    # distance to the region boundary: row 4 is 3 away (rows 1 and 7 are outside); columns 3..5 are >= 3 away
    # from columns 0 and 8; the first pixel in row-major order with the maximum wins
    assert click == Click(x=3, y=4, positive=True)


def test_border_counts_as_boundary_and_false_positives_get_negative_clicks():
    truth = np.zeros((6, 10), bool)
    pred = np.zeros((6, 10), bool)
    pred[:, :6] = True  # false positive touching the image border: 6 x 6 block
    truth[:, :1] = True  # the true object is a 1-px column at the left border
    click = next_click(truth, pred)
    # FP region = columns 1..5, all rows; with the border as boundary its deepest pixels are rows 2-3, column 3
    assert click == Click(x=3, y=2, positive=False)


def test_clicked_pixels_are_not_chosen_again_and_perfect_prediction_stops():
    truth = np.zeros((7, 7), bool)
    truth[1:6, 1:6] = True
    clicked = np.zeros_like(truth)
    clicked[3, 3] = True
    click = next_click(truth, np.zeros_like(truth), clicked)
    assert click is not None and (click.x, click.y) != (3, 3) and click.positive
    assert next_click(truth, truth) is None


def test_larger_error_wins():
    truth = np.zeros((20, 20), bool)
    truth[2:18, 2:10] = True  # mostly missed on the left
    pred = np.zeros_like(truth)
    pred[8:12, 14:18] = True  # small false positive on the right
    click = next_click(truth, pred)
    assert click.positive and 2 <= click.x < 10
