"""Code shape the architecture issue promises: core/'s top level holds only its subpackages and the entry
points, no module over 400 lines in core/ or gui/, and no function over 80 lines anywhere outside tests/
(measured with ast: from `def` to the function's last line, nested functions on their own)."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
MODULE_FOLDERS = ("core", "gui")
CORE_TOP_MODULES = {"__init__.py", "__main__.py", "errors.py", "cli.py", "selftest.py"}
SKIPPED_FOLDERS = {"tests", ".venv", ".build-venv", "build", "dist", "__pycache__"}


def python_files(root: Path, folders: tuple[str, ...] | None = None) -> list[Path]:
    tops = [root / f for f in folders] if folders else [root]
    return sorted(p for top in tops for p in top.rglob("*.py")
                  if not SKIPPED_FOLDERS.intersection(p.relative_to(root).parts))


def long_modules(root: Path, folders: tuple[str, ...], limit: int = MAX_MODULE_LINES) -> list[str]:
    """'path (N lines)' for each module of `folders` longer than `limit` lines."""
    found = []
    for path in python_files(root, folders):
        lines = len(path.read_text().splitlines())
        if lines > limit:
            found.append(f"{path.relative_to(root).as_posix()} ({lines} lines)")
    return found


def long_functions(root: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """'path:function (N lines)' for each function or method under `root` (outside tests/) longer than `limit`."""
    found = []
    for path in python_files(root):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(root).as_posix()}:{node.name} ({lines} lines)")
    return found


def test_the_checks_find_long_modules_and_functions(tmp_path: Path) -> None:
    (tmp_path / "core").mkdir()
    (tmp_path / "tests").mkdir()
    body = "".join(f"    x{k} = {k}\n" for k in range(80))
    (tmp_path / "core" / "long.py").write_text(f"def eighty_one():\n{body}\n\ndef short():\n    pass\n")
    (tmp_path / "core" / "fine.py").write_text("def eighty():\n" + "".join(f"    y{k} = {k}\n" for k in range(79)))
    (tmp_path / "tests" / "test_long.py").write_text(f"def test_long():\n{body}" * 3)
    assert long_functions(tmp_path) == ["core/long.py:eighty_one (81 lines)"]
    assert long_modules(tmp_path, ("core",), limit=84) == ["core/long.py (85 lines)"]
    assert long_modules(tmp_path, ("core",)) == []


def test_core_top_level_is_only_subpackages_and_entry_points() -> None:
    core = REPO / "core"
    modules = {p.name for p in core.glob("*.py")}
    assert modules - CORE_TOP_MODULES == set(), "modules at core/'s top level: move them into a subpackage"
    folders = [p for p in core.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert folders and all((p / "__init__.py").is_file() for p in folders)


def module_path(offender: str) -> str:
    return offender.split(" (")[0]


def test_no_module_over_400_lines_in_core_or_gui() -> None:
    offenders = long_modules(REPO, MODULE_FOLDERS)
    assert not offenders, f"modules over {MAX_MODULE_LINES} lines (split by role): " + ", ".join(offenders)


def test_no_function_over_80_lines_outside_tests() -> None:
    offenders = long_functions(REPO)
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines: " + ", ".join(offenders)
