"""The project store: one SQLite database per project (frames by path + hash, points, strokes, frame tags, masks,
predictions, settings, persisted undo/redo of user actions on one frame or several, label classes) and its parts
(ProjectStore's roles: frames table, annotation edits, actions, settings and predictions; connection, schema and
migrations, history, frame rows, records, per-frame state, classes, calibrations, status query), and a stored
frame's measurements and the editor's view of a frame and its writes (`frame_edits`: one user action is one store
action).
Floor 5: imports `io`, `annotation` and `errors` only."""
