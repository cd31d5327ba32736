import numpy as np

from core.training.synthetic import make_frame


def test_same_seed_same_frame_and_nodules_are_darker():
    a, b = make_frame(5), make_frame(5)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.image, make_frame(6).image)
    assert a.image.dtype == np.uint8 and a.image.shape == (256, 320)
    inside = a.image[a.mask].mean()
    ring = a.image[(~a.mask) & (a.image > 0)].mean()
    assert inside < 0.8 * ring


def test_several_nodules_do_not_touch():
    f = make_frame(3, size=(300, 300), n_nodules=3)
    assert set(np.unique(f.labels)) == {0, 1, 2, 3}
