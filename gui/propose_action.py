"""*Propose* in the window: on the shown frame, when it is tagged *nodule present* (or untagged and without
objects), the frame model's map (with no frame model yet, the click network's answer to one click where a nodule
is likely) becomes the draft mask of a new *nodule* (core.serving.propose), computed on the
model worker, shown at once, saved as a draft in one undo step on the store worker; clicks then refine it (its
engine session starts from the draft) and Enter accepts it. The status bar says why when it cannot."""
from __future__ import annotations

import numpy as np
from PyQt5 import QtCore, QtWidgets

from core.annotation.tags import FrameTag
from core.serving.propose import Proposal, propose_object
from gui.editor_frame import EditorFrame

NO_MODEL = "Propose needs a trained frame model or a click network: train one first (Ctrl+T)"
BUSY = "Still proposing…"
NOTHING_ELSE = "The model sees no nodule on this frame besides those drawn"


def refusal(tag: FrameTag | None, has_objects: bool) -> str | None:
    """Why *Propose* cannot run on a frame with this tag (None: it can)."""
    if tag is FrameTag.NO_NODULE:
        return "This frame is tagged no nodule: tag it nodule present (Y) to propose a nodule"
    if tag is None and has_objects:
        return "This frame already has objects: tag it nodule present (Y) to propose another nodule"
    return None


class ProposeUi(QtCore.QObject):
    """The window's *Propose* action (see the module docstring); `window` is the MainWindow."""

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._busy = False

    @property
    def idle(self) -> bool:
        return not self._busy

    def propose(self) -> None:
        """Propose a nodule on the shown frame (the status bar says why not, when it cannot)."""
        controller, session = self.window.controller, self.window.session
        if controller is None or session is None or controller.edits_refused():
            return
        frame = controller.current
        if frame is None or not frame.loaded.readable:
            self._say("The frame is still loading" if frame is None else "This frame cannot be annotated")
            return
        why = refusal(frame.committed.tag, bool(frame.object_ids()))
        if why is None and self._busy:
            why = BUSY
        if why is not None:
            self._say(why)
            return
        frame_id, loaded, object_id = frame.frame_id, frame.loaded, controller.next_object_id(frame)
        probability = frame.propose_from()
        taken = self._taken(frame)
        model, store = session.model, session.store

        def work() -> Proposal | None:
            return propose_object(model, store, loaded, object_id, probability, taken)

        def done(proposal: Proposal | None) -> None:
            self._busy = False
            if proposal is None:
                self._say(model.take_error() or NO_MODEL)
                return
            if proposal.answer is not None and not store.read_only_reason:
                answer = proposal.answer
                controller.write_frames([frame_id], lambda: store.set_prediction(
                    frame_id, answer.probability, answer.model_version), lambda _: None)
            if not proposal.mask.any():
                self._say(NOTHING_ELSE)
            elif controller.add_proposal(frame_id, proposal):
                source = " by the click network alone (no frame model yet)" if proposal.from_one_click else ""
                self._say(f"Nodule {object_id + 1} proposed{source} · click to refine (K) · Enter accepts · "
                          "Ctrl+Z undoes")
            else:
                self._say("The frame changed while proposing: propose again")

        def failed(exc: BaseException) -> None:
            self._busy = False
            session.workers.inference.report(exc)

        self._busy = True
        self._say("Proposing…")
        session.workers.inference.submit(work, done, failed)

    @staticmethod
    def _taken(frame: EditorFrame) -> np.ndarray | None:
        """The pixels of the frame's objects as shown (a proposal is a nodule not drawn yet)."""
        masks = [m for m, _ in map(frame.shown_mask, frame.object_ids()) if m is not None]
        return np.logical_or.reduce(masks) if masks else None

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)
