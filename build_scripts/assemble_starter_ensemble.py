"""Put starter click networks trained apart into one ensemble: the first becomes --out and names the others in its
metadata, copied beside it as <out>.member1.safetensors, <out>.member2.safetensors, ...; member files of an older
ensemble under that name are removed. Weights are unchanged; each network's metadata keeps its own provenance
(data, licence, command, seed) and gains `starter.assembled_from` (the file it came from), the first one also
`starter.assembled_by` (this command).

    python build_scripts/assemble_starter_ensemble.py --out resources/models/click_starter.safetensors \\
        RUN_A/click_starter.safetensors RUN_A/click_starter.member1.safetensors RUN_B/click_starter.safetensors

Only networks trained by build_scripts/train_starter_models.py (CC0 data, said in their metadata) are taken."""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.errors import SonoClickError  # noqa: E402
from core.interactive.click_inputs import CLICK_CHANNELS  # noqa: E402
from core.interactive.click_network import ENSEMBLE_KEY, MAX_ENSEMBLE  # noqa: E402
from core.interactive.starter_models import STARTER_SOURCE, member_path  # noqa: E402
from models.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402


def assemble(networks: list[Path], out: Path, command: str) -> list[Path]:
    """Write the ensemble; returns its files, the first network's first."""
    if not 1 <= len(networks) <= 1 + MAX_ENSEMBLE:
        raise SonoClickError(f"an ensemble has from 1 to {1 + MAX_ENSEMBLE} networks, not {len(networks)}")
    loaded = [load_checkpoint(path, expect_channels=CLICK_CHANNELS) for path in networks]
    for path, (_, meta) in zip(networks, loaded):
        if meta.get("task") != "interactive" or meta.get("starter", {}).get("licence") != STARTER_SOURCE["licence"]:
            raise SonoClickError(f"{path} is not a starter click network trained on CC0 data")
    targets = [out] + [member_path(out, k) for k in range(1, len(networks))]
    stale = set(out.parent.glob(f"{out.stem}.member*{out.suffix}")) - set(targets)
    # the members first and the first network last: its file names them, so it never names a missing one
    for k in [*range(1, len(networks)), 0]:
        model, meta = loaded[k]
        source = f"{networks[k].parent.name}/{networks[k].name}"
        meta = {**meta, "starter": {**meta["starter"], "assembled_from": source}}
        meta.pop(ENSEMBLE_KEY, None)
        if k == 0:
            meta["starter"]["assembled_by"] = command
            if len(networks) > 1:
                meta[ENSEMBLE_KEY] = [t.name for t in targets[1:]]
        save_checkpoint(targets[k], model, meta).chmod(0o644)
    for path in stale:
        path.unlink()
    return targets


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("networks", type=Path, nargs="+", help="starter click networks; the first becomes --out")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    command = "python build_scripts/assemble_starter_ensemble.py " + " ".join(
        shlex.quote(a) for a in (argv or sys.argv[1:]))
    try:
        for path in assemble(args.networks, args.out, command):
            print(path)
    except SonoClickError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
