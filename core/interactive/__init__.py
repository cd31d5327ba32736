"""The interactive engine: one object's session on one frame (calipers, clicks, undo), the reach of a click,
the live engine that runs edits off the caller's thread (latest wins), the click-conditioned network's inputs
and predictor, the simulated (RITM) user and the clicks benchmark. Floor 5: imports `runtime`, `labels` and below."""
