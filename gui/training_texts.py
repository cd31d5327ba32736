"""The status line a finished training run leaves: how it ended and whether its model is now in use."""
from __future__ import annotations

from core.learning.background_trainer import TrainingOutcome
from core.learning.job_process import JobState
from gui.training_dock import dice_text


def outcome_text(outcome: TrainingOutcome, pinned: bool) -> str:
    """One line on how a run of the frame network ended and whether its model is now in use."""
    end, version = outcome.exit, outcome.version
    if end.state == JobState.FAILED:
        return f"Training failed: {end.reason}. Your annotations are untouched."
    if end.state == JobState.CANCELLED:
        return "Training cancelled; nothing was kept."
    if version is None:
        return f"Training ended ({end.state.value}) without a new model."
    score = f"validation Dice {dice_text(version.val_dice)}"
    if version.baseline_val_dice is not None:
        score += f" vs {dice_text(version.baseline_val_dice)} for the model in use"
    if outcome.switched:
        return f"New model {version.name} ({score}) is now in use."
    if pinned:
        return f"New model {version.name} saved ({score}); not used because a version is pinned."
    return (f"New model {version.name} saved ({score}); not used: not clearly better than the model in use "
            f"({version.judgement().reason}).")
