"""Project settings (JSON values by key) and the model's predictions per frame: plain rows, not undoable."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from core.io.mask_codec import decode_probability, encode_probability
from core.project.db import now_stamp
from core.project.frames_table import FramesTable, size_text
from core.project.records import Prediction


class SettingsAndPredictions(FramesTable):
    """Settings and predictions (a part of ProjectStore)."""

    def set_prediction(self, frame_id: int, probability: np.ndarray, model_version: str) -> None:
        """Keep the model's probability map ((H, W) float in [0, 1] or uint8) for the frame (not undoable)."""
        p = np.asarray(probability)
        with self._db.write() as db:
            rec = self._frame_in(db, frame_id)
            if p.shape != (rec.height, rec.width):
                raise ValueError(f"prediction is {size_text(p.shape)} but frame {frame_id} is {rec.width}x{rec.height}")
            db.execute(
                "INSERT OR REPLACE INTO predictions (frame_id, png, model_version, created_at) VALUES (?, ?, ?, ?)",
                (frame_id, encode_probability(p), str(model_version), now_stamp()),
            )

    def prediction(self, frame_id: int) -> Prediction | None:
        with self._db.read() as db:
            self._frame_in(db, frame_id)
            row = db.execute(
                "SELECT png, model_version, created_at FROM predictions WHERE frame_id = ?", (frame_id,)
            ).fetchone()
        return None if row is None else Prediction(decode_probability(row[0]), row[1], row[2])

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A setting's value (any JSON value), or `default` when unset."""
        with self._db.read() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def path_setting(self, key: str) -> Path | None:
        """A setting that names a file, absolute or relative to the project folder; None when unset."""
        value = self.get_setting(key)
        return self._source(str(value)) if value else None

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under `key`."""
        text = json.dumps(value)
        with self._db.write() as db:
            db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, text))

