"""The package's import structure: no upward or function-level intra-package imports, no
``bench`` inside the package, and an installed package without a ``bench`` folder."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "descramble"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _is_module(package_dir: Path, name: str) -> bool:
    """Whether ``name`` is a module or subpackage of the package in ``package_dir``."""
    return (
        (package_dir / f"{name}.py").is_file()
        or (package_dir / name / "__init__.py").is_file()
        or (package_dir / f"{name}.pyi").is_file()  # the compiled core, by its stub
    )


def _problems(path: Path, root: Path = PACKAGE) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    here = path.parent
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
            )
            where = f"{path.relative_to(root.parent)}:{getattr(child, 'lineno', '?')}"
            if isinstance(child, ast.Import):
                for alias in child.names:
                    top = alias.name.split(".")[0]
                    if top in ("descramble", "bench"):
                        found.append(f"{where}: import {alias.name}")
            elif isinstance(child, ast.ImportFrom):
                top = (child.module or "").split(".")[0]
                if child.level == 0 and top in ("descramble", "bench"):
                    found.append(f"{where}: from {child.module} import ...")
                if child.level > 0:
                    if nested:
                        found.append(f"{where}: relative import inside a function or class")
                    base = here
                    for _ in range(child.level - 1):
                        base = base.parent
                    if child.module is None:
                        # from . import x: x must be a module, not a name of __init__.
                        for alias in child.names:
                            if not _is_module(base, alias.name):
                                found.append(
                                    f"{where}: from {'.' * child.level} import {alias.name} "
                                    "(a name of the package's __init__, not a module)"
                                )
                    elif child.module.split(".")[0] == "bench":
                        found.append(f"{where}: imports bench")
            visit(child, nested)

    visit(tree, False)
    return found


def test_package_modules_found():
    names = {p.name for p in MODULES}
    assert {"__init__.py", "descrambler.py", "moments.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_are_direct_top_level_module_imports(path):
    assert _problems(path) == []


def test_the_check_catches_what_it_forbids(tmp_path):
    """The AST check flags each forbidden form (so the test above can fail)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("X = 1\n")
    (pkg / "sub.py").write_text("")
    bad = pkg / "bad.py"
    bad.write_text(
        "import descramble\n"
        "from descramble.moments import Moments\n"
        "from . import X\n"
        "import bench.run\n"
        "from . import sub\n"  # allowed
        "def f():\n"
        "    from .sub import y\n"
        "    from . import sub\n"
    )
    problems = _problems(bad, root=pkg)
    assert len(problems) == 6, problems


def test_installed_package_has_no_bench():
    try:
        files = importlib.metadata.files("descramble")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("descramble is not installed (run from a source tree)")
    assert files is not None
    shipped = [str(f) for f in files if str(f).startswith("descramble/")]
    assert any("_core" in f for f in shipped)  # the listing is the installed package's
    assert [f for f in shipped if f.split("/")[1] == "bench"] == []
    assert importlib.util.find_spec("descramble.bench") is None
