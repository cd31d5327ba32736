"""Training networks: the one training loop (`loop`: budget, schedule, EMA, best checkpoint, progress events,
DDP) and its tasks, the frame network (`frame_task`), the click network (`click_task`, its simulated
interaction states in `click_samples`) and the region-prior network (`region_prior_task`: TRFE-Net from nodule
masks and gland masks); training frames and their targets per supervision, ProCNS's soft
pseudo-labels and ANPM's start for sparse labels (`pseudo_labels`), augmentations and synthetic frames; the
frame network from frame-level labels mixed with masks (`tag_task`, its frames `tag_data`, its scores
`tag_eval`) and nodule-free crops as negatives (`negatives`).
Floor 6: imports `interactive` (the simulated user and click inputs), `runtime`, `labels`, `io`, `annotation`
and `models`; never `project`."""
