"""The app's learning loop on top of a project: consistent snapshots of its labels, mixed supervision from
them, the click network's rounds on accepted masks, the region-prior round (nodule + thyroid-gland masks), model
versions of both networks and when one is better than the model in use, the background trainer and the child
process it supervises, the next-frame suggestion, and the replayed annotation session that measures it all.
Floor 7: imports `training`, `project` and everything below."""
