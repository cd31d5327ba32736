"""The project store: one SQLite database per project (frames by path + hash, points, masks, predictions,
settings, persisted undo/redo) and its parts (connection, schema and migrations, history, records, per-frame
state, status query, calibrations), a stored frame's measurements, plus moving annotations between a store and
plain files. Floor 5: imports `io`, `annotation` and `errors` only."""
