"""High-confidence labels from calipers (HCL-HRL): the shapes through the caliper ends, segmenter S, the graph
cut, crops and the OpenCV morphology the click path uses. Floor 3: imports `errors` and `annotation` only."""
