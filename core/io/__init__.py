"""Files in and out: the one `Frame` type and its readers (images, DICOM, video; `readers.read_frame` picks one
by the file's first bytes), mask files and the store's mask codec, HCL-HRL point JSON, dataset folders, the
measurements CSV, atomic writes and the input limits (`limits`). Floor 2: imports `errors` and `annotation` only."""
