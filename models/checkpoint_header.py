"""Reading a checkpoint's header and metadata without torch: the app can vet a model file without paying for
(or freezing on) a torch import."""
from __future__ import annotations

import json
from pathlib import Path

from models.errors import CheckpointError

FORMAT = "sonoclick-segmenter"
FORMAT_VERSION = 1
METADATA_KEY = "sonoclick"


def read_metadata(path: str | Path) -> dict:
    """The metadata dict of one of our checkpoints, without loading the tensors."""
    path = Path(path)
    header = _read_header(path)
    raw = header.get("__metadata__", {}).get(METADATA_KEY)
    if raw is None:
        raise CheckpointError(path, "a safetensors file, but not a SonoClick checkpoint (no 'sonoclick' metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CheckpointError(path, f"SonoClick metadata is not valid JSON ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise CheckpointError(path, f"format {meta.get('format')!r} is not {FORMAT!r}")
    if int(meta.get("format_version", -1)) > FORMAT_VERSION:
        raise CheckpointError(path, f"format version {meta.get('format_version')} is newer than this SonoClick "
                                    f"({FORMAT_VERSION}); update the software")
    return meta


def _read_header(path: Path) -> dict:
    """Parse the safetensors header ourselves so non-safetensors files (pickles, zips, junk) fail clearly."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(path, "file is too short to be a checkpoint")
            n = int.from_bytes(head, "little")
            if n <= 0 or n > min(size - 8, 100_000_000):
                raise CheckpointError(path, "not a SonoClick checkpoint (no safetensors header; pickled "
                                            "torch files are refused because loading them can run code)")
            header = json.loads(f.read(n))
    except OSError as exc:
        raise CheckpointError(path, f"cannot read ({exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(path, "not a SonoClick checkpoint (header is not safetensors JSON)") from exc
    if not isinstance(header, dict):
        raise CheckpointError(path, "not a SonoClick checkpoint (header is not a JSON object)")
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    if ends and 8 + n + max(ends) > size:
        raise CheckpointError(path, f"file is truncated ({size} bytes, header promises {8 + n + max(ends)})")
    return header
