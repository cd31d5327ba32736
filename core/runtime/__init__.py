"""Running a trained network: device and thread choice (and background threads that yield the CPU), the
predictor (checkpoint -> probability map for a frame of any size) and the segmentation metrics. Floor 4: imports
`models`, `errors` and the floors below."""
