"""Running a trained network: device and thread choice, the predictor (checkpoint -> probability map for a
frame of any size) and the segmentation metrics. Floor 4: imports `models`, `errors` and the floors below."""
