"""The app's learning loop on top of a project: consistent snapshots of its labels, mixed supervision from
them, model versions, the background trainer and the child process it supervises, and the next-frame
suggestion. Floor 7: imports `training`, `project` and everything below."""
