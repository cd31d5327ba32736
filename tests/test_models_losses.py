import torch

from models.losses import (
    LossWeights,
    consensus_map,
    contrastive_loss,
    correlation_loss,
    partial_cross_entropy,
    projection_dice_loss,
    soft_dice_loss,
    supcon_loss,
    supervised_loss,
    topology_bce_loss,
    weak_loss,
)
from models.unet import ProjectionHeads


def _square(h: int = 24, w: int = 24, box: tuple[int, int, int, int] = (6, 16, 8, 18)) -> torch.Tensor:
    m = torch.zeros(1, 1, h, w)
    m[..., box[0]:box[1], box[2]:box[3]] = 1
    return m


def test_projection_dice_is_minimal_for_perfect_prediction_and_has_gradient() -> None:
    loc = _square()
    assert projection_dice_loss(loc, loc) < 1e-3
    prob = torch.full_like(loc, 0.3, requires_grad=True)
    loss = projection_dice_loss(prob, loc)
    loss.backward()
    assert loss > 0.2 and prob.grad.abs().sum() > 0


def test_projection_dice_ignores_shape_inside_the_box() -> None:
    # any mask touching every row and column of the box has perfect projections (BoxInst property)
    loc = _square()
    cross = torch.zeros_like(loc)
    cross[..., 11, 8:18] = 1
    cross[..., 6:16, 12] = 1
    assert projection_dice_loss(cross, loc) < 1e-3


def test_topology_bce_zero_when_foreground_is_certain_and_pushes_up_there() -> None:
    fg = _square()
    assert topology_bce_loss(fg.clone(), fg) < 1e-4
    prob = torch.full_like(fg, 0.5, requires_grad=True)
    topology_bce_loss(prob, fg).backward()
    assert (prob.grad[fg > 0] < 0).all() and (prob.grad[fg == 0] == 0).all()


def test_partial_ce_only_counts_confident_pixels() -> None:
    fg, bg = _square(), 1 - _square(box=(4, 18, 6, 20))
    perfect = (fg * 2 - 1) * 20
    assert partial_cross_entropy(perfect, fg, bg) < 1e-6
    logits = perfect.clone().requires_grad_(True)
    with torch.no_grad():
        logits[(fg + bg) == 0] = 5.0  # wrong-looking values in the unlabelled band cost nothing
    logits = logits.detach().requires_grad_(True)
    loss = partial_cross_entropy(logits, fg, bg)
    loss.backward()
    assert loss < 1e-6 and logits.grad[(fg + bg) == 0].abs().sum() == 0


def test_supervised_and_soft_dice_minimal_when_perfect() -> None:
    m = _square()
    assert soft_dice_loss(m, m) < 1e-6
    assert supervised_loss((m * 2 - 1) * 20, m) < 1e-6
    logits = torch.zeros_like(m, requires_grad=True)
    supervised_loss(logits, m).backward()
    assert logits.grad.abs().sum() > 0


def test_supcon_near_zero_when_separated_and_has_gradient() -> None:
    pos = torch.tensor([[1.0, 0.0]] * 6)
    neg = torch.tensor([[-1.0, 0.0]] * 6)
    assert supcon_loss(pos, neg) < 1e-6
    mixed = torch.randn(6, 4, requires_grad=True)
    loss = supcon_loss(mixed, torch.randn(8, 4))
    loss.backward()
    assert loss > 0.1 and mixed.grad.abs().sum() > 0  # the published code's detach bug would give no gradient


def test_contrastive_loss_sends_gradient_to_features_and_heads() -> None:
    torch.manual_seed(0)
    feats = torch.randn(2, 8, 24, 24, requires_grad=True)
    fg, bg = _square().repeat(2, 1, 1, 1), (1 - _square(box=(4, 18, 6, 20))).repeat(2, 1, 1, 1)
    heads = ProjectionHeads(8, hidden=16, out=8)
    loss = contrastive_loss(feats, fg, bg, heads, samples_per_image=(16, 32, 8, 16))
    loss.backward()
    assert loss > 0 and feats.grad.abs().sum() > 0
    assert all(p.grad is not None for p in heads.parameters())


def test_contrastive_loss_takes_a_single_confident_pixel() -> None:
    """A thin scribble can leave one confident nodule pixel: no contrast then, and no BatchNorm on a batch of
    one (the background trainer crashed there); one background pixel is enough against several nodule ones."""
    torch.manual_seed(0)
    feats = torch.randn(1, 8, 24, 24)
    heads = ProjectionHeads(8, hidden=16, out=8).train()
    one = torch.zeros(1, 1, 24, 24)
    one[..., 10, 10] = 1
    rest = 1 - _square(box=(4, 18, 6, 20))
    assert float(contrastive_loss(feats, one, rest, heads)) == 0.0
    loss = contrastive_loss(feats, _square(), one, heads)
    assert torch.isfinite(loss) and loss > 0


def test_correlation_loss_target_is_soft_consensus_and_minimal_at_it() -> None:
    feats = torch.randn(1, 8, 24, 24)
    fg, bg = _square(), 1 - _square(box=(4, 18, 6, 20))
    m = consensus_map(feats, fg, bg)
    assert 0.38 <= float(m.min()) and float(m.max()) <= 0.62
    prob = m.clone().requires_grad_(True)
    correlation_loss(prob, feats, fg, bg).backward()
    assert prob.grad.abs().max() < 1e-6  # BCE(s, m) is stationary at s = m
    other = torch.full_like(m, 0.9, requires_grad=True)
    correlation_loss(other, feats, fg, bg).backward()
    assert other.grad.abs().sum() > 0


def test_weak_loss_uses_published_weights_and_sums_terms() -> None:
    w = LossWeights()
    assert (w.projection, w.topology, w.contrastive, w.correlation) == (1.0, 1.0, 1.0, 0.01)
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 24, 24, requires_grad=True)
    feats = torch.randn(2, 8, 24, 24, requires_grad=True)
    fg = _square().repeat(2, 1, 1, 1)
    batch = {"fg": fg, "bg": (1 - _square(box=(4, 18, 6, 20))).repeat(2, 1, 1, 1), "location": fg, "pseudo": fg}
    terms = weak_loss(logits, feats, batch, w, ProjectionHeads(8, 16, 8))
    parts = sum(v for k, v in terms.items() if k != "total")
    assert set(terms) >= {"partial_ce", "pseudo_dice", "projection", "topology", "contrastive", "correlation"}
    assert torch.isclose(terms["total"], parts)
    terms["total"].backward()
    assert logits.grad.abs().sum() > 0 and feats.grad.abs().sum() > 0


def test_weak_loss_runs_with_autocast_switched_off(monkeypatch) -> None:
    """CUDA autocast raises on F.binary_cross_entropy; emulate that policy on the CPU and check the weak loss
    never calls it while autocast is on (the trainer runs the network under autocast on CUDA)."""
    original = torch.nn.functional.binary_cross_entropy

    def strict_bce(*args, **kwargs):
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("binary_cross_entropy is unsafe to autocast")
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "binary_cross_entropy", strict_bce)
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 24, 24, requires_grad=True)
    feats = torch.randn(2, 8, 24, 24)
    fg = _square().repeat(2, 1, 1, 1)
    batch = {"fg": fg, "bg": 1 - fg, "location": fg, "pseudo": fg}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        terms = weak_loss(logits, feats, batch, LossWeights(pseudo_bce=1.0), ProjectionHeads(8, 16, 8))
    assert terms["total"].dtype == torch.float32 and torch.isfinite(terms["total"])
    assert "pseudo_bce" in terms
    terms["total"].backward()
    assert logits.grad.abs().sum() > 0


def test_pseudo_bce_is_zero_at_a_confident_perfect_prediction() -> None:
    fg = _square()
    logits = (fg * 2 - 1) * 40.0
    w = LossWeights(partial_ce=0, pseudo_dice=0, projection=0, topology=0, contrastive=0, correlation=0,
                    pseudo_bce=1.0)
    terms = weak_loss(logits, torch.zeros(1, 4, 24, 24), {"fg": fg, "bg": 1 - fg, "pseudo": fg}, w, None)
    assert float(terms["pseudo_bce"]) < 1e-6


def test_pseudo_label_terms_skip_samples_without_a_pseudo_label() -> None:
    """A click-only frame's empty pseudo channel is no label: the Dice and BCE terms leave it alone, and the
    other samples cost what they cost on their own."""
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 24, 24, requires_grad=True)
    fg = _square()
    pseudo = torch.cat([fg, torch.zeros_like(fg)])
    only = LossWeights(partial_ce=0, projection=0, topology=0, contrastive=0, correlation=0, pseudo_dice=1.0,
                       pseudo_bce=1.0)
    batch = {"fg": pseudo, "bg": 1 - pseudo, "pseudo": pseudo, "pseudo_known": torch.tensor([True, False])}
    terms = weak_loss(logits, torch.zeros(2, 4, 24, 24), batch, only, None)
    alone = weak_loss(logits[:1], torch.zeros(1, 4, 24, 24), {"fg": fg, "bg": 1 - fg, "pseudo": fg}, only, None)
    assert torch.isclose(terms["total"], alone["total"])
    terms["total"].backward()
    assert logits.grad[0].abs().sum() > 0 and float(logits.grad[1].abs().sum()) == 0.0

    none_known = {**batch, "pseudo_known": torch.tensor([False, False])}
    assert set(weak_loss(logits, torch.zeros(2, 4, 24, 24), none_known, only, None)) == {"total"}
