"""Undo/redo by user action. One action (a click: its point and the mask it produced; an accept of two nodules)
is several store edits; the app records how many per action (setting "gui.undo_groups.<frame id>") and undoes or
redoes them together. Edits made outside the app count one each.
NOTE for core: a store-level way to group edits into one history step would replace this."""
from __future__ import annotations

from core.project.store import ProjectStore

MAX_GROUPS = 500


def _key(frame_id: int) -> str:
    return f"gui.undo_groups.{frame_id}"


def _load(store: ProjectStore, frame_id: int) -> dict[str, list[int]]:
    groups = store.get_setting(_key(frame_id), {})
    return {"undo": list(groups.get("undo", [])), "redo": list(groups.get("redo", []))}


def record_group(store: ProjectStore, frame_id: int, steps: int) -> None:
    """A new action of `steps` store edits was made on the frame (which also clears its redo)."""
    if steps <= 0:
        return
    groups = _load(store, frame_id)
    groups["undo"] = [*groups["undo"], steps][-MAX_GROUPS:]
    groups["redo"] = []
    store.set_setting(_key(frame_id), groups)


def _step(store: ProjectStore, frame_id: int, undo: bool) -> bool:
    groups = _load(store, frame_id)
    source, target = ("undo", "redo") if undo else ("redo", "undo")
    wanted = groups[source].pop() if groups[source] else 1
    done = 0
    for _ in range(wanted):
        changed = store.undo(frame_id) if undo else store.redo(frame_id)
        if changed is None:
            break
        done += 1
    if done:
        groups[target].append(done)
    store.set_setting(_key(frame_id), groups)
    return done > 0


def undo_action(store: ProjectStore, frame_id: int) -> bool:
    """Undo the frame's latest action; False when there was nothing to undo."""
    return _step(store, frame_id, undo=True)


def redo_action(store: ProjectStore, frame_id: int) -> bool:
    return _step(store, frame_id, undo=False)
