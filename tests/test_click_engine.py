"""The interactive engine driven by a click-conditioned network (a stand-in network with known answers, and a
real tiny one trained in seconds)."""
import numpy as np
import pytest
import torch

from core.annotation.caliper_simulation import calipers_from_label_map
from core.errors import CheckpointError
from core.interactive.click_inputs import CLICK_CHANNELS
from core.interactive.click_network import ClickPredictor
from core.interactive.clicks_benchmark import run_frame
from core.interactive.session import InteractionSession
from core.labels.crop import Crop
from core.training.click_samples import ClickFrame
from core.training.click_task import ClickTrainConfig, train_click_model
from core.training.synthetic import make_frame
from models.checkpoint import save_checkpoint
from models.unet import UNet, spec_from_preset
from tests.click_checkpoints import click_checkpoint

torch.set_num_threads(1)


class TruthNetwork:
    """Answers every state with the true nodule (what a perfect click network would say)."""

    def __init__(self, truth: np.ndarray) -> None:
        self.truth = truth
        self.windows: list[Crop] = []

    def predict(self, image, window: Crop, positives, negatives, prev_mask) -> np.ndarray:
        self.windows.append(window)
        return window.take(self.truth).astype(np.float32)


@pytest.fixture()
def frame():
    return make_frame(3, size=(160, 200), contrast=0.6)


def test_network_answer_fills_the_window_and_honours_clicks(frame) -> None:
    net = TruthNetwork(frame.mask)
    session = InteractionSession(frame.image, click_model=net)
    ys, xs = np.nonzero(frame.mask)
    cx, cy = int(xs.mean()), int(ys.mean())
    mask = session.add_click(cx, cy, True)
    assert mask[cy, cx] and (mask & frame.mask).sum() / (mask | frame.mask).sum() > 0.95
    # a negative click inside the nodule is a hard constraint even against the network
    mask = session.add_click(cx, cy + 3, False)
    assert not mask[cy + 3, cx] and mask[cy, cx]
    assert net.windows[-1].contains(Crop(ys.min(), ys.max() + 1, xs.min(), xs.max() + 1))


def test_a_positive_click_elsewhere_drops_the_frame_models_stray_blob(frame) -> None:
    probability = np.zeros(frame.mask.shape, np.float32)
    probability[5:15, 5:15] = 0.9  # a far-away blob from the frame model, which missed the nodule
    session = InteractionSession(frame.image, probability, click_model=TruthNetwork(frame.mask))
    ys, xs = np.nonzero(frame.mask)
    mask = session.add_click(int(xs.mean()), int(ys.mean()), True)
    assert not mask[5:15, 5:15].any() and (mask & frame.mask).sum() / (mask | frame.mask).sum() > 0.95
    before = mask.copy()
    assert np.array_equal(session.undo(), probability > 0.5) and np.array_equal(session.redo(), before)


def test_calipers_and_network_combine(frame) -> None:
    session = InteractionSession(frame.image, click_model=TruthNetwork(frame.mask))
    calipers = calipers_from_label_map(frame.labels)[0]
    first = session.set_calipers(calipers)
    ys, xs = np.nonzero(frame.mask & ~first)
    if len(xs):
        mask = session.add_click(int(xs[0]), int(ys[0]), True)
        assert mask[ys[0], xs[0]]
    assert session.calipers == calipers


def test_a_frame_model_is_not_taken_for_a_click_model(tmp_path) -> None:
    path = save_checkpoint(tmp_path / "frame.safetensors", UNet(spec_from_preset("tiny")),
                           {"resolution": 32, "normalisation": {"mean": 0.2, "std": 0.2}})
    with pytest.raises(CheckpointError, match="input channels|click"):
        ClickPredictor.load(path)


@pytest.mark.timeout(120)
def test_trained_click_network_drives_the_robot_user(tmp_path) -> None:
    frames = [ClickFrame(str(k), f.image, f.mask) for k in range(20)
              for f in [make_frame(k, size=(96, 112), contrast=0.6)]]
    cfg = ClickTrainConfig(preset="tiny", resolution=48, epochs=8, batch_size=8, lr=1e-2, threads=1, device="cpu",
                           ema_decay=0.9)
    result = train_click_model(frames, [], cfg, tmp_path / "click.safetensors")
    net = ClickPredictor.load(result.checkpoint, threads=1)
    test = make_frame(500, size=(96, 112), contrast=0.6)
    run = run_frame(test.image, test.mask, "none", 10, 0.0, np.random.default_rng(0), click_model=net)
    assert max(run.ious) > 0.7


def test_after_calipers_the_network_can_answer_the_clicks(frame, monkeypatch) -> None:
    monkeypatch.setattr("core.interactive.session.CALIPER_REFINEMENT", "network")
    net = TruthNetwork(frame.mask)
    session = InteractionSession(frame.image, click_model=net)
    calipers = calipers_from_label_map(frame.labels)[0]
    first = session.set_calipers(calipers)
    assert not net.windows  # calipers alone are answered by the caliper engine
    ys, xs = np.nonzero(frame.mask)
    cx, cy = int(xs.mean()), int(ys.mean())
    mask = session.add_click(cx, cy + 2, False)  # a negative click inside the nodule: a hard constraint
    assert len(net.windows) == 1 and not mask[cy + 2, cx]
    truth_iou = (mask & frame.mask).sum() / (mask | frame.mask).sum()
    assert truth_iou > (first & frame.mask).sum() / (first | frame.mask).sum() - 0.02
    assert np.array_equal(session.undo(), first)


def test_traced_click_network_answers_like_the_eager_one(tmp_path, frame) -> None:
    torch.manual_seed(0)
    path = save_checkpoint(tmp_path / "click.safetensors", UNet(spec_from_preset("tiny", CLICK_CHANNELS)),
                           {"task": "interactive", "resolution": 32, "normalisation": {"mean": 0.2, "std": 0.2}})
    net = ClickPredictor.load(path, threads=1)
    assert net._frozen is not None  # the fast path is taken where tracing works
    window = Crop(20, 140, 30, 170)
    args = (frame.image, window, np.array([[100.0, 80.0]]), np.array([[40.0, 40.0]]), frame.mask)
    traced = net.predict(*args)
    net._frozen = None
    assert np.allclose(traced, net.predict(*args), atol=1e-5)


class LeftHanded(torch.nn.Module):
    """Says "nodule" on the left of its window and "background" on the right, whatever the input."""

    stride = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ramp = torch.linspace(4.0, -4.0, x.shape[-1])
        return ramp.expand(x.shape[0], 1, x.shape[-2], x.shape[-1])


def test_click_network_answer_is_averaged_with_its_mirror_image(frame) -> None:
    net = ClickPredictor(LeftHanded(), {"resolution": 32, "normalisation": {"mean": 0.2, "std": 0.2}},
                         torch.device("cpu"))
    answer = net.predict(frame.image, Crop(20, 140, 30, 170), np.array([[100.0, 80.0]]), np.zeros((0, 2)), None)
    assert answer.shape == (120, 140)
    assert np.allclose(answer, 0.5, atol=1e-6)  # a bias to one side of the window cancels out


def test_an_ensemble_answers_with_the_mean_of_its_members(tmp_path, frame) -> None:
    click_checkpoint(tmp_path / "second.safetensors", 2)
    head = click_checkpoint(tmp_path / "head.safetensors", 1, ensemble=["second.safetensors"])
    args = (frame.image, Crop(20, 140, 30, 170), np.array([[100.0, 80.0]]), np.zeros((0, 2)), None)
    ensemble = ClickPredictor.load(head, threads=1)
    assert len(ensemble.members) == 1
    alone = [ClickPredictor.load(tmp_path / name, threads=1) for name in ("head.safetensors", "second.safetensors")]
    alone[0].members = []  # the head's own answer, without the member its metadata names
    answers = [net.predict(*args) for net in alone]
    assert not np.allclose(answers[0], answers[1], atol=1e-4)
    assert np.allclose(ensemble.predict(*args), (answers[0] + answers[1]) / 2, atol=1e-5)


@pytest.mark.parametrize("member", ["../second.safetensors", "missing.safetensors", "second.pt"])
def test_an_ensemble_member_must_be_a_checkpoint_beside_the_head(tmp_path, member) -> None:
    (tmp_path / "sub").mkdir()
    click_checkpoint(tmp_path / "second.safetensors", 2)
    head = click_checkpoint(tmp_path / "sub" / "head.safetensors", 1, ensemble=[member])
    with pytest.raises(CheckpointError, match="member"):
        ClickPredictor.load(head, threads=1)
