"""Annotation interchange: a registry of file formats (PNG dataset folders, HCL-HRL point JSON, COCO, DICOM-SEG,
labelme, CVAT for images, measurements CSV, frame tags CSV) and the export and import that go through it; the
point JSON and labelme carry clicks, scribbles and boxes too. Export writes accepted
masks only into a fresh folder renamed into place; import validates every file, previews the change and applies
it in one transaction or not at all. Adding a format is one module in core/exchange/formats/ with a reader and/or
a writer, listed in core.exchange.registry. Floor 6 (beside training): imports `project`, `io`, `annotation` and
`errors` only; never Qt, never torch."""
