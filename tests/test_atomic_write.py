"""Issue 15, finding 8: atomic writes create their temporary file with an unpredictable name and O_EXCL in the
target folder, so a symbolic link planted beside the target is never followed."""
import os
import tempfile
from pathlib import Path

import pytest

from core.errors import InputError
from core.io.atomic_write import copy_file_atomic, write_bytes_atomic


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


def test_a_copy_is_whole_or_absent_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    """A checkpoint copied into a version folder: the target appears only once every byte is written (a copy that
    fails half-way leaves the old target, or none, and no temporary file)."""
    import shutil

    source = tmp_path / "model.safetensors"
    source.write_bytes(os.urandom(3 * (1 << 20) + 17))  # several chunks
    target = tmp_path / "versions" / "v0001" / "model.safetensors"
    copy_file_atomic(source, target)
    assert target.read_bytes() == source.read_bytes()

    def half_then_fail(reader, writer, length):
        writer.write(reader.read(length))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", half_then_fail)
    (tmp_path / "other.safetensors").write_bytes(b"x" * (2 << 20))
    with pytest.raises(InputError, match="No space left"):
        copy_file_atomic(tmp_path / "other.safetensors", target)
    assert target.read_bytes() == source.read_bytes() and sorted(p.name for p in target.parent.iterdir()) == [
        "model.safetensors"]
    with pytest.raises(InputError, match="cannot read"):
        copy_file_atomic(tmp_path / "missing.safetensors", tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()
