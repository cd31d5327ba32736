"""Issue 15, finding 8: atomic writes create their temporary file with an unpredictable name and O_EXCL in the
target folder, so a symbolic link planted beside the target is never followed."""
import os
import tempfile
from pathlib import Path

import pytest

from core.errors import InputError
from core.io.atomic_write import write_bytes_atomic


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_planted_symlink_at_the_old_temporary_name_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious")
    export = tmp_path / "export"
    export.mkdir()
    # the name the writer used to pick: predictable from the target and the process id
    (export / f".mask.png.{os.getpid()}.tmp").symlink_to(outside)
    write_bytes_atomic(export / "mask.png", b"new data")
    assert outside.read_bytes() == b"precious"
    assert (export / "mask.png").read_bytes() == b"new data" and not (export / "mask.png").is_symlink()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_symlink_at_the_target_is_replaced_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious")
    (tmp_path / "labels.json").symlink_to(outside)
    write_bytes_atomic(tmp_path / "labels.json", b"{}")
    assert outside.read_bytes() == b"precious" and (tmp_path / "labels.json").read_bytes() == b"{}"


def test_temporary_names_are_unpredictable_and_cleaned_up(tmp_path: Path, monkeypatch) -> None:
    created: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: object) -> None:
        created.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_bytes_atomic(tmp_path / "a.png", b"1")
    write_bytes_atomic(tmp_path / "a.png", b"2")
    assert len(set(created)) == 2 and all(str(os.getpid()) not in name for name in created)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and POSIX permissions")
def test_a_failed_write_raises_input_error_and_leaves_nothing() -> None:
    from tests.test_project_faults import NOBODY, in_child

    # A plain temporary folder another user can enter (tmp_path's parents are private to root).
    base = Path(tempfile.mkdtemp(prefix="sonoclick-aw-"))
    folder = base / "ro"
    folder.mkdir()
    os.chmod(base, 0o755)
    folder.chmod(0o555)

    def write() -> str:
        try:
            write_bytes_atomic(folder / "x.png", b"data")
        except InputError as exc:
            return f"InputError {exc.reason}"
        return "written"

    try:
        outcome = in_child(write, drop_to=NOBODY if os.geteuid() == 0 else None)  # root ignores permissions
        assert outcome.startswith("InputError cannot write file")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)
        folder.rmdir()
        base.rmdir()
