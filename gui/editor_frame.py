"""The frame open in the editor: what the store holds (committed) plus the edits still on their way (points
waiting for the engine, masks waiting to be written, a drag or brush stroke in progress), and what to draw."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from core.annotation.points import CALIPER_ORDER, Calipers, Point, PointKind
from core.annotation.strokes import Stroke
from core.interactive.brush import PaintLayer
from core.interactive.engine_state import EngineState
from core.interactive.session import InteractionSession
from core.project.classes import DEFAULT_CLASS_ID
from core.project.frame_edits import FrameAnnotations
from core.project.records import MaskProvenance
from core.serving.frame_loading import LoadedFrame, session_for
from core.serving.prediction_verdict import prediction_verdict
from gui.shortcuts import keys_text


@dataclass(frozen=True)
class ObjectDisplay:
    """One object as drawn: its class, its mask (and whether accepted, draft or predicted), caliper ends,
    clicks, and its scribbles and box (strokes, in the order drawn)."""

    object_id: int
    mask: np.ndarray | None
    mask_kind: str  # "accepted", "draft", "predicted", or "" without a mask
    caliper_ends: dict[PointKind, tuple[float, float]]
    clicks: list[tuple[float, float, bool]]
    current: bool
    class_id: int = DEFAULT_CLASS_ID
    strokes: tuple[Stroke, ...] = ()

    @property
    def calipers(self) -> Calipers | None:
        if all(k in self.caliper_ends for k in CALIPER_ORDER):
            return Calipers(*(self.caliper_ends[k] for k in CALIPER_ORDER))
        return None


@dataclass
class EditorFrame:
    loaded: LoadedFrame
    committed: FrameAnnotations
    engine_states: dict[int, EngineState] = field(default_factory=dict)  # after every submitted request
    pending_points: dict[int, Point] = field(default_factory=dict)  # request/commit seq -> point
    pending_strokes: dict[int, Stroke] = field(default_factory=dict)  # request/commit seq -> scribble or box
    pending_moves: dict[int, tuple[float, float]] = field(default_factory=dict)  # point id -> new position
    live_masks: dict[int, tuple[int, np.ndarray, MaskProvenance]] = field(default_factory=dict)  # not yet stored
    paint: dict[int, PaintLayer] = field(default_factory=dict)
    stroke_preview: tuple[int, np.ndarray] | None = None  # object id, mask while a brush stroke is drawn
    pending_classes: dict[int, int] = field(default_factory=dict)  # object id -> class id not yet stored
    presence: float | None = None  # the frame model's presence gate on this frame, when its answer came this session
    withheld: np.ndarray | None = None  # the segmenter's map on this frame, when its presence gate blanked it

    @property
    def frame_id(self) -> int:
        return self.loaded.record.id

    @property
    def shape(self) -> tuple[int, int]:
        assert self.loaded.gray is not None
        return self.loaded.gray.shape[:2]

    # ----- engine --------------------------------------------------------------------------------------
    def committed_engine_state(self, object_id: int) -> EngineState:
        return EngineState.from_labels(self.committed.points.items(), self.committed.strokes.items(), object_id,
                                       self.shape)

    def engine_state(self, object_id: int) -> EngineState:
        return self.engine_states.get(object_id) or self.committed_engine_state(object_id)

    def session(self, object_id: int, class_id: int | None = None) -> InteractionSession:
        """The object's engine session as an object of `class_id` (default: its own class, else *nodule*)."""
        if class_id is None:
            class_id = self.object_class(object_id) or DEFAULT_CLASS_ID
        return session_for(self.loaded, object_id, class_id)

    def object_class(self, object_id: int) -> int | None:
        """The object's class as shown (a change on its way first); None for an object not started yet."""
        if object_id in self.pending_classes:
            return self.pending_classes[object_id]
        if object_id in self.committed.object_ids():
            return self.committed.class_of(object_id)
        return None

    @property
    def untouched(self) -> bool:
        """No annotation stored or on its way, and no engine edit made since loading."""
        return not self.object_ids() and not self.engine_states and not self.paint

    def use_prediction(self, probability: np.ndarray, sessions: dict[int, InteractionSession],
                       presence: float | None = None, withheld: np.ndarray | None = None) -> None:
        """The model's prediction arrived after loading: show it, and (while nothing was edited) let the engine
        start from it with `sessions`, made for it off the GUI thread. `presence`, `withheld`: what its presence
        gate said, and the map it blanked (kept for *Propose*)."""
        self.presence, self.withheld = presence, withheld
        self.loaded.annotations = replace(self.loaded.annotations, prediction=probability)
        self.committed = replace(self.committed, prediction=probability)
        if self.untouched:
            self.loaded.sessions = sessions

    def reset_to_committed(self) -> None:
        """Forget every edit in progress (after an undo/redo replaced the committed state)."""
        self.engine_states.clear()
        self.pending_points.clear()
        self.pending_strokes.clear()
        self.pending_moves.clear()
        self.live_masks.clear()
        self.paint.clear()
        self.stroke_preview = None
        self.pending_classes.clear()

    # ----- what is shown -------------------------------------------------------------------------------
    def caliper_ends(self, object_id: int) -> dict[PointKind, tuple[float, float]]:
        ends = {
            kind: self.pending_moves.get(pid, (p.x, p.y))
            for kind, (pid, p) in self.committed.caliper_ends(object_id).items()
        }
        for p in self.pending_points.values():
            if p.object_id == object_id and p.kind.is_caliper:
                ends[p.kind] = (p.x, p.y)
        return ends

    def object_ids(self) -> list[int]:
        ids = set(self.committed.object_ids()) | set(self.live_masks)
        ids |= {p.object_id for p in self.pending_points.values()}
        ids |= {s.object_id for s in self.pending_strokes.values()}
        return sorted(ids)

    def strokes(self, object_id: int) -> tuple[Stroke, ...]:
        """The object's scribbles and box as stored, then those on their way, in the order drawn."""
        stored = [s for _, s in sorted(self.committed.strokes.items())]
        pending = [s for _, s in sorted(self.pending_strokes.items())]
        return tuple(s for s in [*stored, *pending] if s.object_id == object_id)

    def shown_mask(self, object_id: int) -> tuple[np.ndarray | None, str]:
        if self.stroke_preview is not None and self.stroke_preview[0] == object_id:
            return self.stroke_preview[1], "draft"
        if object_id in self.live_masks:
            return self.live_masks[object_id][1], "draft"
        if object_id in self.committed.masks:
            kind = "draft" if object_id in self.committed.drafts else "accepted"
            return self.committed.masks[object_id], kind
        return None, ""

    def shown_provenance(self, object_id: int) -> MaskProvenance | None:
        if object_id in self.live_masks:
            return self.live_masks[object_id][2]
        return self.committed.provenance.get(object_id)

    @property
    def shows_prediction(self) -> bool:
        """The model's mask is shown (and accepted with Enter) only while no human has annotated the frame."""
        return self.committed.prediction is not None and not self.object_ids()

    def model_verdict(self) -> str:
        """While the frame shows the model's prediction and it holds no nodule, the status line saying so (and,
        where the presence gate blanked a nodule the segmenter saw, that *Propose* outlines it)."""
        if not self.shows_prediction:
            return ""
        return prediction_verdict(self.committed.prediction, self.presence, self.withheld,
                                  f"Propose ({keys_text('propose')})")

    def propose_from(self) -> np.ndarray | None:
        """The map *Propose* starts from: the segmenter's own where the presence gate blanked the frame, else the
        stored prediction (None: the model must be asked)."""
        return self.withheld if self.withheld is not None else self.committed.prediction

    def display(self, current_object: int) -> list[ObjectDisplay]:
        objects = []
        if self.shows_prediction:
            objects.append(ObjectDisplay(0, self.committed.predicted_mask, "predicted", {}, [], current_object == 0))
            return objects
        for oid in self.object_ids():
            mask, kind = self.shown_mask(oid)
            clicks = [
                (p.x, p.y, p.kind == PointKind.FOREGROUND)
                for p in [*self.committed.points.values(), *self.pending_points.values()]
                if p.object_id == oid and not p.kind.is_caliper
            ]
            class_id = self.object_class(oid)
            objects.append(ObjectDisplay(oid, mask, kind, self.caliper_ends(oid), clicks, oid == current_object,
                                         self.committed.class_of(oid) if class_id is None else class_id,
                                         self.strokes(oid)))
        return objects
