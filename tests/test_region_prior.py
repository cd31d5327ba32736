"""TRFE-Net's region prior: the gland map steers the nodule decoder, partial labels reach only their own head,
checkpoints list the heads, the predictor returns a map per class, and `train --glands` runs end to end."""
import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.cli import main
from core.errors import CheckpointError
from core.io.dataset import list_dataset
from core.runtime.predictor import Predictor
from core.training.augment import FLIPS_ONLY
from core.training.data import TrainingFrame, load_frames
from core.training.frame_task import evaluate_dice
from core.training.region_prior_task import GLAND, NODULE, RegionPriorConfig, RegionPriorTask, train_region_prior
from core.training.synthetic import make_frame
from models.checkpoint import load_checkpoint, read_metadata, save_checkpoint
from models.losses import containment_loss, head_masked_loss
from models.preprocess import Normalisation
from models.trfe import TRFENet, trfe_spec_from_preset
from models.unet import UNet, build_unet, encode
from tests.conftest import write_dataset

RES = 32


def _net(seed: int = 0) -> TRFENet:
    torch.manual_seed(seed)
    return TRFENet(trfe_spec_from_preset("tiny"))


def _decoder_parameters(net: TRFENet, which: str) -> list[torch.nn.Parameter]:
    return [*getattr(net, f"{which}_decoders").parameters(), *getattr(net, f"{which}_head").parameters()]


def test_output_has_one_map_per_head_nodule_first() -> None:
    net = _net().eval()
    out = net(torch.randn(2, 1, RES, RES))
    assert out.shape == (2, 2, RES, RES) and net.heads == ("nodule", "thyroid gland")


def test_the_gland_map_changes_the_nodule_output() -> None:
    net = _net().eval()
    x = torch.randn(1, 1, RES, RES)
    with torch.no_grad():
        skips = encode(net.encoders, x)
        no_gland = net.decode_nodule(skips, torch.zeros(1, 1, RES, RES))
        gland = net.decode_nodule(skips, torch.ones(1, 1, RES, RES))
        assert (no_gland - gland).abs().max() > 1e-3
        # through forward: only the gland head's bias changes, and the nodule channel follows it
        net.gland_head.bias.fill_(-20.0)
        low = net(x)
        net.gland_head.bias.fill_(20.0)
        high = net(x)
    assert torch.allclose(low[:, NODULE], no_gland[:, 0], atol=1e-5)
    assert torch.allclose(high[:, NODULE], gland[:, 0], atol=1e-5)
    assert (low[:, NODULE] - high[:, NODULE]).abs().max() > 1e-3


@pytest.mark.parametrize(("labelled", "silent"), [(NODULE, "gland"), (GLAND, "nodule")])
def test_a_sample_labelled_for_one_head_gives_no_gradient_to_the_other_decoder(labelled: int, silent: str) -> None:
    net = _net().train()
    torch.manual_seed(1)
    x = torch.randn(2, 1, RES, RES)
    targets = (torch.rand(2, 2, RES, RES) > 0.5).float()
    supervised = torch.zeros(2, 2, dtype=torch.bool)
    supervised[:, labelled] = True
    sum(head_masked_loss(net(x), targets, supervised)).backward()
    trained = "nodule" if silent == "gland" else "gland"
    assert all(p.grad is None or not p.grad.any() for p in _decoder_parameters(net, silent))
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in _decoder_parameters(net, trained))
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.encoders.parameters())


def test_checkpoint_round_trip_lists_the_heads(tmp_path: Path) -> None:
    net = _net(3).eval()
    path = save_checkpoint(tmp_path / "trfe.safetensors", net, {"resolution": RES})
    model, meta = load_checkpoint(path)
    assert isinstance(model, TRFENet) and model.heads == ("nodule", "thyroid gland")
    assert meta["heads"] == ["nodule", "thyroid gland"] and meta["architecture"]["network"] == "trfe"
    x = torch.randn(1, 1, RES, RES)
    assert torch.allclose(model(x), net(x), atol=1e-6)
    # a single-map checkpoint still loads as the plain U-Net and lists no heads
    plain, plain_meta = load_checkpoint(save_checkpoint(tmp_path / "unet.safetensors", build_unet("tiny"), {}))
    assert isinstance(plain, UNet) and "heads" not in plain_meta and "network" not in plain_meta["architecture"]


def _rewrite_architecture(path: Path, out: Path, **changes: object) -> Path:
    """The same weights with changed architecture metadata (a checkpoint someone else wrote)."""
    from safetensors.torch import load_file, save_file

    meta = read_metadata(path)
    meta["architecture"].update(changes)
    save_file(load_file(str(path)), str(out), metadata={"sonoclick": json.dumps(meta)})
    return out


@pytest.mark.parametrize("changes", [{"heads": ["nodule", "gland", "cyst"]}, {"heads": ["nodule", "nodule"]},
                                     {"network": "transformer"}, {"heads": "nodule"}])
def test_bad_head_metadata_is_refused_before_building(tmp_path: Path, changes: dict) -> None:
    path = save_checkpoint(tmp_path / "trfe.safetensors", _net(), {})
    bad = _rewrite_architecture(path, tmp_path / "bad.safetensors", **changes)
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)


def _predictor_checkpoint(tmp_path: Path) -> Path:
    norm = Normalisation(mean=0.5, std=0.25)
    return save_checkpoint(tmp_path / "trfe.safetensors", _net(4),
                           {"resolution": RES, "normalisation": norm.to_dict()})


def test_the_predictor_returns_a_map_per_class_and_the_nodule_map_as_before(tmp_path: Path) -> None:
    predictor = Predictor.load(_predictor_checkpoint(tmp_path), device="cpu", threads=1)
    image = make_frame(5, size=(70, 90)).image
    maps = predictor.predict_classes(image)
    assert list(maps) == ["nodule", "thyroid gland"]
    assert all(m.shape == image.shape and m.dtype == np.float32 for m in maps.values())
    assert not np.allclose(maps["nodule"], maps["thyroid gland"])
    assert np.array_equal(predictor.predict(image), maps["nodule"])
    plain = save_checkpoint(tmp_path / "unet.safetensors", build_unet("tiny"),
                            {"resolution": RES, "normalisation": {"mean": 0.5, "std": 0.25}})
    assert list(Predictor.load(plain, device="cpu", threads=1).predict_classes(image)) == ["nodule"]


def _frames(seed0: int, n: int) -> list[TrainingFrame]:
    frames = []
    for k in range(n):
        f = make_frame(seed0 + k, size=(2 * RES, 2 * RES), contrast=0.6)
        image = cv2.resize(f.image, (RES, RES), interpolation=cv2.INTER_AREA)
        truth = cv2.resize(f.mask.astype(np.uint8), (RES, RES), interpolation=cv2.INTER_NEAREST) > 0
        frames.append(TrainingFrame(f"{seed0 + k}", image, (0, 0, RES, RES), (RES, RES), truth=truth))
    return frames


def _config(**overrides: object) -> RegionPriorConfig:
    base = dict(preset="tiny", resolution=RES, epochs=1, batch_size=2, seed=0, threads=1, device="cpu", amp=False)
    return RegionPriorConfig(**{**base, **overrides})


def test_every_batch_interleaves_nodule_and_gland_samples() -> None:
    task = RegionPriorTask(_frames(0, 4), _frames(50, 3), [], [], _config())
    task.build(torch.device("cpu"), 0)
    x, targets, supervised = task.batch([0, 1])
    assert x.shape == (4, 1, RES, RES) and targets.shape == (4, 2, RES, RES)
    assert supervised.tolist() == [[True, False], [False, True]] * 2
    assert not targets[supervised.logical_not()].any()  # the unlabelled head's plane is empty
    assert targets[supervised].any()


def _with_gland(frames: list[TrainingFrame]) -> list[TrainingFrame]:
    """The frames with a gland mask too: a band of rows around each nodule (not the nodule itself)."""
    for f in frames:
        rows = np.flatnonzero(f.truth.any(1))
        f.gland_truth = np.zeros_like(f.truth)
        f.gland_truth[max(0, rows[0] - 4):rows[-1] + 5] = True
    return frames


def test_a_frame_with_both_masks_supervises_both_heads_with_the_same_augmentation() -> None:
    nodules = _with_gland(_frames(0, 2)) + _frames(2, 1)
    task = RegionPriorTask(nodules, _frames(50, 3), [], [], _config())
    task.build(torch.device("cpu"), 0)
    x, targets, supervised = task.batch([0, 2])
    assert supervised.tolist() == [[True, True], [False, True], [True, False], [False, True]]
    both = targets[0]
    assert both[NODULE].any() and both[GLAND].any() and not torch.equal(both[NODULE], both[GLAND])
    # one warp for both planes: the augmented nodule stays inside the augmented band of rows around it
    assert bool((both[NODULE] <= both[GLAND]).all())


def test_gland_masks_on_nodule_frames_alone_train_the_gland_head(tmp_path: Path) -> None:
    task = RegionPriorTask(_with_gland(_frames(0, 4)), [], [], [], _config())
    task.build(torch.device("cpu"), 0)
    _, _, supervised = task.batch([0, 1])
    assert supervised.tolist() == [[True, True]] * 2 and task.frames_per_item == 1
    with pytest.raises(ValueError, match="no gland masks"):
        RegionPriorTask(_frames(0, 4), [], [], [], _config())
    result = train_region_prior(_with_gland(_frames(0, 4)), [], _frames(10, 2), _frames(60, 2), _config(epochs=1),
 tmp_path / "both.safetensors")
    assert result.epochs == 1 and 0 <= result.history[0]["monitor_dice"] <= 1


def test_each_nodule_frame_can_bring_several_gland_frames() -> None:
    task = RegionPriorTask(_frames(0, 4), _frames(50, 6), [], [], _config(glands_per_nodule=2))
    task.build(torch.device("cpu"), 0)
    x, _, supervised = task.batch([0, 1])
    assert x.shape[0] == 6 and task.frames_per_item == 3
    assert supervised.tolist() == [[True, False], [False, True], [False, True]] * 2


def test_gland_frames_come_round_once_per_round_of_a_seeded_order() -> None:
    def draws(seed: int) -> list[str]:
        task = RegionPriorTask(_frames(0, 4), _frames(50, 3), [], [], _config(seed=seed))
        task.build(torch.device("cpu"), 0)
        return [f.stem for f in task.next_gland_frames(6)]

    first = draws(0)
    assert sorted(first[:3]) == sorted(first[3:]) == ["50", "51", "52"]
    assert draws(0) == first


def test_partial_forward_decodes_the_nodule_only_where_a_nodule_loss_reads_it() -> None:
    net = _net().eval()
    x = torch.randn(3, 1, RES, RES)
    rows = torch.tensor([True, False, True])
    with torch.no_grad():
        full, partial = net(x), net.forward_partial(x, rows)
        none = net.forward_partial(x, torch.zeros(3, dtype=torch.bool))
    assert torch.allclose(partial[rows], full[rows], atol=1e-5)
    assert torch.allclose(partial[:, GLAND], full[:, GLAND], atol=1e-5)
    assert not partial[1, NODULE].any() and not none[:, NODULE].any()


def test_containment_labels_the_outer_map_only_on_the_inner_objects_pixels() -> None:
    outer = torch.zeros(3, 1, 4, 4, requires_grad=True)
    inner = torch.zeros(3, 1, 4, 4)
    inner[0, 0, 1:3, 1:3] = 1
    inner[1, 0, 0, 0] = 1  # a sample left out by `rows`
    rows = torch.tensor([True, False, True])
    loss = containment_loss(outer, inner, rows)
    assert float(loss.detach()) == pytest.approx(float(torch.nn.functional.softplus(torch.tensor(0.0))))
    loss.backward()
    touched = outer.grad != 0
    assert touched[0, 0, 1:3, 1:3].all() and int(touched.sum()) == 4 and bool((outer.grad <= 0).all())
    assert float(containment_loss(outer, inner, torch.tensor([False, False, True]))) == 0.0


def test_nodule_frames_pull_the_gland_map_over_their_nodules_only_when_asked() -> None:
    for weight in (0.0, 1.0):
        task = RegionPriorTask(_frames(0, 2), _frames(50, 2), [], [], _config(nodule_in_gland=weight))
        _, module = task.build(torch.device("cpu"), 0)
        terms = module(*task.batch([0, 1]))
        assert ("nodule_in_gland" in terms) == bool(weight)
        if weight:
            expected = terms["nodule"] + terms["gland"] + terms["nodule_in_gland"]
            assert float(terms["nodule_in_gland"].detach()) > 0 and torch.allclose(terms["total"], expected)


def test_gland_frames_get_their_own_augmentation() -> None:
    unchanged = replace(FLIPS_ONLY, flip_probability=0.0)
    task = RegionPriorTask(_frames(0, 2), _frames(50, 2), [], [], _config(gland_augment=unchanged))
    task.build(torch.device("cpu"), 0)
    x, _, supervised = task.batch([0, 1])
    gland_rows = (~supervised[:, NODULE]).nonzero().squeeze(1).tolist()
    for row, frame in zip(gland_rows, task.gland_frames[::-1]):
        expected = (frame.image.astype(np.float32) / 255.0 - task.norm.mean) / task.norm.std
        assert np.allclose(x[row, 0].numpy(), expected, atol=1e-5)
    nodule = (task.nodule_frames[0].image.astype(np.float32) / 255.0 - task.norm.mean) / task.norm.std
    assert not np.allclose(x[0, 0].numpy(), nodule, atol=1e-3)  # the standard augmentation on nodule frames


def test_the_checkpoint_is_picked_on_the_mean_of_both_heads_dice() -> None:
    task = RegionPriorTask(_frames(0, 2), _frames(50, 2), _frames(10, 2), _frames(60, 2), _config())
    net, _ = task.build(torch.device("cpu"), 0)
    nodule = evaluate_dice(net, task.nodule_val, task.norm, task.device)
    gland = evaluate_dice(net, task.gland_val, task.norm, task.device, head=GLAND)
    assert task.validate(net) == pytest.approx(0.5 * (nodule + gland))
    nodule_only = RegionPriorTask(_frames(0, 2), _frames(50, 2), _frames(10, 2), [], _config())
    nodule_only.build(torch.device("cpu"), 0)
    assert nodule_only.validate(net) == pytest.approx(nodule)
    gland_only = RegionPriorTask(_frames(0, 2), _frames(50, 2), [], _frames(60, 2), _config())
    gland_only.build(torch.device("cpu"), 0)
    assert gland_only.validate(net) is None  # the last weights are kept, as the background trainer's round wants


def test_training_saves_the_best_two_head_dice_and_reports_the_gland_dice(tmp_path: Path) -> None:
    runs = [train_region_prior(_frames(0, 4), _frames(50, 4), _frames(10, 2), _frames(60, 2),
                               _config(epochs=2), tmp_path / f"run{k}.safetensors") for k in range(2)]
    result = runs[0]
    assert result.epochs == 2 and result.steps == 4 and 0 <= result.best_val_dice <= 1
    assert all(0 <= h["monitor_dice"] <= 1 for h in result.history)
    assert [h["val_dice"] for h in runs[0].history] == [h["val_dice"] for h in runs[1].history]  # seeded
    model, meta = load_checkpoint(result.checkpoint)
    assert isinstance(model, TRFENet) and meta["heads"] == ["nodule", "thyroid gland"]
    assert meta["task"] == "region_prior" and meta["metrics"]["val_head_dice"] == result.best_val_dice


def test_train_with_a_gland_folder_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    nodules = write_dataset(tmp_path / "nodules", 6)
    glands = write_dataset(tmp_path / "glands", 6, seed0=100)
    run = tmp_path / "run"
    args = ["train", "--data", str(nodules), "--glands", str(glands), "--out", str(run), "--epochs", "1",
            "--device", "cpu", "--threads", "1", "--width", "tiny", "--resolution", "32", "--batch-size", "2"]
    assert main([*args, "--supervision", "calipers"]) == 2
    assert "--supervision masks" in capsys.readouterr().err
    assert main([*args, "--supervision", "masks", "--glands-uncropped", "--gland-augment", "flips",
                 "--nodule-in-gland", "0.5", "--glands-per-nodule", "2"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["epochs"] == 1 and summary["frames_per_s"] > 0
    meta = read_metadata(run / "model.safetensors")
    assert meta["heads"] == ["nodule", "thyroid gland"] and meta["n_train_glands"] == 5
    assert meta["gland_frames_cropped"] is False
    assert meta["training"]["glands_per_nodule"] == 2
    assert meta["training"]["nodule_in_gland"] == 0.5 and meta["training"]["gland_augment"]["rotate_deg"] == 0.0


def _margined_dataset(root: Path) -> Path:
    """One synthetic frame with a black scanner margin on the left and a mask that reaches into it."""
    f = make_frame(7, size=(96, 112), contrast=0.6)
    image, mask = f.image.copy(), np.zeros((96, 112), np.uint8)
    image[:, :40] = 0
    mask[30:60, 20:70] = 255
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    cv2.imwrite(str(root / "images" / "0.png"), image)
    cv2.imwrite(str(root / "masks" / "0.png"), mask)
    return root


def test_frames_already_cropped_to_the_image_keep_their_whole_area(tmp_path: Path) -> None:
    items = list_dataset(_margined_dataset(tmp_path / "data"))
    cropped, = load_frames(items, RES, "masks")
    whole, = load_frames(items, RES, "masks", crop=False)
    assert cropped.box[0] >= 35 and whole.box == (0, 0, 112, 96)
    predictor = Predictor.load(_predictor_checkpoint(tmp_path), device="cpu", threads=1)
    image = items[0].frame().gray_u8()
    assert not predictor.predict_classes(image)["thyroid gland"][:, :35].any()  # the margin is cut off
    assert predictor.predict_classes(image, whole_frame=True)["thyroid gland"][:, :35].all()
