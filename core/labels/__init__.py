"""High-confidence labels from calipers (HCL-HRL): the shapes through the caliper ends, segmenter S, the graph
cut, crops and the OpenCV morphology the click path uses; draft masks from a localisation map (`proposal`);
and the depth ruler's ticks on a frame (`depth_ruler`), which propose a calibration. Floor 3: imports `errors`
and `annotation` only."""
