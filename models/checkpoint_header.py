"""Reading a checkpoint's header and metadata without torch: the app can vet a model file without paying for
(or freezing on) a torch import."""
from __future__ import annotations

import json
from pathlib import Path

from models.checkpoint_schema import MAX_HEADER_BYTES, validate_header, validate_metadata
from models.errors import CheckpointError

FORMAT = "sonoclick-segmenter"
FORMAT_VERSION = 1
METADATA_KEY = "sonoclick"


def read_metadata(path: str | Path) -> dict:
    """The metadata dict of one of our checkpoints, without loading the tensors."""
    path = Path(path)
    if not path.is_file():  # a pipe or device would block the read; a folder has no header
        raise CheckpointError(path, "not a regular file" if path.exists() else "file not found")
    header = _read_header(path)
    raw = header.get("__metadata__", {}).get(METADATA_KEY)  # shapes vetted by validate_header
    if raw is None:
        raise CheckpointError(path, "a safetensors file, but not a SonoClick checkpoint (no 'sonoclick' metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CheckpointError(path, f"SonoClick metadata is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise CheckpointError(path, "SonoClick metadata is nested too deeply to be ours") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(path, f"format {found!r} is not {FORMAT!r}")
    version = meta.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:  # a newer layout: its fields are not ours to vet
        raise CheckpointError(path, f"format version {version} is newer than this SonoClick "
                                    f"({FORMAT_VERSION}); update the software")
    validate_metadata(path, meta)
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
            if n <= 0 or n > size - 8:
                raise CheckpointError(path, "not a SonoClick checkpoint (no safetensors header; pickled "
                                            "torch files are refused because loading them can run code)")
            if n > MAX_HEADER_BYTES:
                raise CheckpointError(path, f"checkpoint header of {n:,} bytes is larger than SonoClick reads "
                                            f"({MAX_HEADER_BYTES:,} bytes)")
            header = json.loads(f.read(n))
    except OSError as exc:
        raise CheckpointError(path, f"cannot read ({exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(path, "not a SonoClick checkpoint (header is not safetensors JSON)") from exc
    except RecursionError as exc:
        raise CheckpointError(path, "not a SonoClick checkpoint (header JSON is nested too deeply)") from exc
    validate_header(path, header)
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    if ends and 8 + n + max(ends) > size:
        raise CheckpointError(path, f"file is truncated ({size} bytes, header promises {8 + n + max(ends)})")
    return header
