"""The mixed-supervision loss: each kind of label weighted by how much it tells, and CLTN's erasure term
training the attention mask and the eraser but never the classifier it asks."""
from __future__ import annotations

import torch

from models.tag_losses import MASK, NO_NODULE, NODULE, POINTS, KindWeights, TagTermWeights, mixed_loss
from models.tag_net import TagNet
from models.unet import build_unet


def _batch() -> tuple[TagNet, torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    net = TagNet(build_unet("tiny")).eval()  # eval: batch norm must not make one frame's loss depend on another's
    x = torch.randn(4, 1, 32, 32)
    labels = torch.zeros(4, 1, 32, 32)
    labels[0, 0, 8:20, 8:20] = 1.0  # the MASK frame's mask
    labels[3, 0, 12:15, 12:15] = 1.0  # the POINTS frame's disc
    return net, x, torch.tensor([MASK, NO_NODULE, NODULE, POINTS]), labels


def test_default_weights_rank_the_kinds_by_how_much_they_tell() -> None:
    w = KindWeights()
    assert w.mask == w.no_nodule == 1.0 > w.points == 0.5 > w.nodule == 0.25


def test_each_kind_term_scales_with_its_weight_alone() -> None:
    net, x, kinds, labels = _batch()
    with torch.no_grad():
        out = net(x)
        base = mixed_loss(net, x, out, kinds, labels)
        for kind, terms in (("mask", ["mask"]), ("no_nodule", ["no_nodule"]), ("points", ["points"]),
                            ("nodule", ["presence", "area", "cam_seed", "erase"])):
            doubled = mixed_loss(net, x, out, kinds, labels, KindWeights(**{kind: 2 * getattr(KindWeights(), kind)}))
            for name in base:
                expected = 2 * base[name] if name in terms else base[name]
                if name != "total":
                    assert torch.allclose(doubled[name], expected, rtol=1e-4, atol=1e-6), (kind, name)
            assert torch.allclose(doubled["total"], sum(v for k, v in doubled.items() if k != "total"))


def test_the_total_is_the_weighted_sum_over_the_batch_size() -> None:
    net, x, kinds, labels = _batch()
    with torch.no_grad():
        out = net(x)
        everything = mixed_loss(net, x, out, kinds, labels)
        mask_only = mixed_loss(net, x[:1], type(out)(out.segmentation[:1], out.cam[:1], out.frame_logit[:1]),
                               kinds[:1], labels[:1])
    # the mask frame's term, averaged over 4 frames instead of 1
    assert torch.allclose(everything["mask"], mask_only["mask"] / 4, rtol=1e-5)


def test_erasure_trains_the_mask_and_eraser_but_not_the_classifier() -> None:
    net, x, kinds, labels = _batch()
    out = net(x)
    terms = mixed_loss(net, x, out, kinds, labels, terms=TagTermWeights(frame_class=0.0, area=0.0, presence=0.0,
                                                                         cam_seed=0.0))
    terms["erase"].backward()
    assert net.cam.weight.grad is None or float(net.cam.weight.grad.abs().sum()) == 0.0
    assert float(net.unet.head.weight.grad.abs().sum()) > 0  # the attention mask's head
    assert float(net.eraser.texture[0].weight.grad.abs().sum()) > 0
