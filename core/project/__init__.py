"""The project store: one SQLite database per project (frames by path + hash, points, masks, predictions,
settings, persisted undo/redo) and its parts (connection, schema and migrations, history, records, per-frame
state, status query), the editor's view of a frame and its writes (`frame_edits`: one user action is one
store action), plus moving annotations between a store and plain files. Floor 5: imports `io`,
`annotation` and `errors` only."""
