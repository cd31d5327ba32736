"""The project store: one SQLite database per project (frames by path + hash, points, masks, predictions,
settings, persisted undo/redo, label classes) and its parts (connection, schema and migrations, history, records,
per-frame state, classes, status query). Floor 5: imports `io`, `annotation` and `errors` only."""
