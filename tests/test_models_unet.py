import pytest
import torch

from models.unet import PRESETS, ProjectionHeads, UNet, build_unet, count_parameters, spec_from_preset


@pytest.mark.parametrize("preset", ["tiny", "fast"])
def test_unet_keeps_spatial_size_and_exposes_features(preset: str) -> None:
    model = build_unet(preset, ("image", "ds_prior")).eval()
    logits, features = model.forward_features(torch.randn(2, 2, 64, 48))
    assert logits.shape == (2, 1, 64, 48)
    assert features.shape == (2, model.feature_channels, 64, 48)


def test_paper_preset_matches_published_size() -> None:
    # HCL-HRL's 64-channel bilinear U-Net has about 13.4 M parameters (algorithms.md A.5)
    assert 13.0e6 < count_parameters(build_unet("paper", ("image", "r", "g"))) < 13.8e6


def test_presets_grow_in_size() -> None:
    sizes = [count_parameters(build_unet(p)) for p in ("tiny", "fast", "small", "medium", "paper")]
    assert sizes == sorted(sizes) and set(PRESETS) == {"tiny", "fast", "small", "medium", "paper"}


def test_spec_round_trips_through_dict() -> None:
    spec = spec_from_preset("fast", ("image", "clicks_pos", "clicks_neg", "prev_mask"))
    assert UNet(type(spec).from_dict(spec.to_dict())).spec == spec


def test_unknown_preset_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown width preset"):
        spec_from_preset("huge")


def test_projection_heads_embed_pixels_and_patches() -> None:
    heads = ProjectionHeads(feature_channels=8, hidden=16, out=4)
    assert heads.pixel(torch.randn(5, 8)).shape == (5, 4)
    assert heads.patch(torch.randn(5, 72)).shape == (5, 4)
