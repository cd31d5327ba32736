"""Batch composition of the mixed-supervision task: "no nodule" frames are drawn at their natural share unless
capped, and a cap holds however many of them the project has; the frame classifier trains only for tags."""
from __future__ import annotations

import numpy as np

from core.training.tag_eval import mean_area_percent
from core.training.tag_task import _Streams, effective_terms
from models.tag_losses import MASK, NO_NODULE, NODULE, POINTS, TagTermWeights

DRAWS = 4000


def _negative_share(kinds: list[int], cap: float | None, seed: int = 0) -> float:
    streams = _Streams(kinds, mask_share=0.25, rng=np.random.default_rng(seed), negative_share=cap)
    drawn = [kinds[streams.draw()] for _ in range(DRAWS)]
    return drawn.count(NO_NODULE) / DRAWS


def test_negatives_are_drawn_at_their_natural_share_without_a_cap() -> None:
    kinds = [MASK] * 60 + [NO_NODULE] * 40
    assert abs(_negative_share(kinds, None) - 0.40) < 0.03


def test_a_cap_limits_the_share_of_negatives_and_keeps_masks_and_tags_in_proportion() -> None:
    kinds = [MASK] * 30 + [NODULE] * 30 + [NO_NODULE] * 140  # a sweep tagged mostly "no nodule"
    assert abs(_negative_share(kinds, 0.2) - 0.20) < 0.03
    streams = _Streams(kinds, mask_share=0.25, rng=np.random.default_rng(1), negative_share=0.2)
    drawn = [kinds[streams.draw()] for _ in range(DRAWS)]
    assert abs(drawn.count(MASK) / drawn.count(NODULE) - 1.0) < 0.15


def test_a_cap_above_the_natural_share_changes_nothing_and_every_negative_is_seen() -> None:
    kinds = [MASK] * 80 + [NO_NODULE] * 20
    assert abs(_negative_share(kinds, 0.5) - 0.20) < 0.03
    streams = _Streams(kinds, mask_share=0.25, rng=np.random.default_rng(2), negative_share=0.5)
    seen = {streams.draw() for _ in range(DRAWS)}
    assert seen == set(range(len(kinds)))


def test_a_project_of_negatives_alone_draws_them_all_the_time() -> None:
    assert _negative_share([NO_NODULE] * 10, 0.2) == 1.0


def test_the_frame_classifier_trains_only_when_some_frame_has_a_nodule_tag_alone() -> None:
    terms = TagTermWeights(frame_class=0.7)
    assert effective_terms(terms, [MASK, NO_NODULE, POINTS]).frame_class == 0.0
    assert effective_terms(terms, [MASK, NO_NODULE, NODULE]) == terms


def test_the_false_positive_area_is_the_mean_share_of_frame_predicted_nodule() -> None:
    empty, quarter = np.zeros((4, 4)), np.zeros((4, 4))
    quarter[:2, :2] = 0.9
    assert mean_area_percent([empty, quarter]) == 12.5


def test_zoomed_crops_with_and_without_a_nodule_share_the_capped_stream_equally() -> None:
    kinds = [MASK] * 100 + [NO_NODULE] * 60 + [MASK] * 60  # whole frames, nodule-free crops, nodule crops
    zoomed = [False] * 100 + [True] * 120
    streams = _Streams(kinds, mask_share=0.25, rng=np.random.default_rng(3), negative_share=0.2, zoomed=zoomed)
    drawn = [streams.draw() for _ in range(DRAWS)]
    crops = [i for i in drawn if zoomed[i]]
    assert abs(len(crops) / DRAWS - 0.20) < 0.03  # the cap holds for the crops together
    with_nodule = sum(kinds[i] == MASK for i in crops)
    assert abs(with_nodule / len(crops) - 0.5) < 0.06  # so being zoomed in says nothing of a nodule
    assert set(drawn) == set(range(len(kinds)))


def test_without_zoomed_frames_the_draws_are_those_of_before() -> None:
    kinds = [MASK] * 30 + [NODULE] * 30 + [NO_NODULE] * 40
    plain = _Streams(kinds, mask_share=0.25, rng=np.random.default_rng(4), negative_share=0.2)
    flagged = _Streams(kinds, mask_share=0.25, rng=np.random.default_rng(4), negative_share=0.2,
                       zoomed=[False] * len(kinds))
    assert [plain.draw() for _ in range(500)] == [flagged.draw() for _ in range(500)]
