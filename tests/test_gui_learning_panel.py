"""The training tab's learning panel (gui/learning_panel.py) and which click network the app uses when the
project has none of its own (core/serving/click_model.py)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.interactive.starter_models import STARTER_CLICK_LABEL, STARTER_FALLBACK_ENV  # noqa: E402
from core.learning import versions as versions_module  # noqa: E402
from core.learning.versions import CLICK, CLICK_MODEL_PATH_KEY, ModelRegistry  # noqa: E402
from core.project.store import ProjectStore  # noqa: E402
from core.serving.click_model import ClickModelProvider  # noqa: E402
from gui.learning_panel import LearningPanel  # noqa: E402
from models.checkpoint import save_checkpoint  # noqa: E402
from models.unet import UNet, UNetSpec  # noqa: E402


def checkpoint(path):
    return save_checkpoint(path, UNet(UNetSpec(widths=(4, 8))), {})


def test_the_panel_plots_clicks_per_accepted_mask_and_lists_click_versions(qtbot, tmp_path):
    panel = LearningPanel()
    qtbot.addWidget(panel)
    for clicks in (9, 7, 4, 0):
        panel.add_accepted(clicks)
    xs, ys = panel.clicks_curve.getData()
    assert list(ys) == [9, 7, 4, 0] and list(xs) == [1, 2, 3, 4]
    assert list(panel.mean_curve.getData()[1]) == [9, 8, 20 / 3, 5]
    panel.set_click_model(STARTER_CLICK_LABEL)
    assert "trained on breast ultrasound" in panel.click_model_label.text()

    store = ProjectStore.create(tmp_path / "project")
    try:
        registry = ModelRegistry(store, tmp_path / "project", CLICK)
        version = registry.add(checkpoint(tmp_path / "c.safetensors"), 3.5, 5.0, "held-out accepted masks", 6,
                               frame_scores=[3, 4, 3, 4, 3, 4], baseline_frame_scores=[5] * 6,
                               lower_is_better=True)
        assert registry.offer(version)
        panel.set_click_versions(registry.versions(), version.name)
        assert panel.click_version_rows() == [["v0001", "3.50", "5.00", "in use"]]
    finally:
        store.close()


def test_without_a_click_model_of_its_own_the_app_uses_the_starter(tmp_path, monkeypatch):
    starter = checkpoint(tmp_path / "starter.safetensors")
    monkeypatch.setattr(versions_module, "starter_click_path", lambda: starter)
    monkeypatch.setenv(STARTER_FALLBACK_ENV, "on")
    store = ProjectStore.create(tmp_path / "project")
    try:
        provider = ClickModelProvider()
        assert provider.model_path(store) == starter
        own = checkpoint(tmp_path / "own.safetensors")
        store.set_setting(CLICK_MODEL_PATH_KEY, str(own))
        assert provider.model_path(store) == own  # the user's choice comes first
        monkeypatch.setenv(STARTER_FALLBACK_ENV, "off")
        store.set_setting(CLICK_MODEL_PATH_KEY, None)
        assert provider.model_path(store) is None
    finally:
        store.close()
