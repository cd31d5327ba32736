"""Training networks: the trainer (frame network) and the click network's trainer, training frames and
their targets per supervision, augmentations and synthetic frames. Floor 6: imports `interactive` (the simulated
user and click inputs), `runtime`, `labels`, `io`, `annotation` and `models`; never `project`."""
