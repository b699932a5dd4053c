"""The tests mirror the packages, and share through tests/support and tests/conftest.py only."""
import ast

from support.paths import ROOT, TESTS

PACKAGES = sorted(p.name for p in (ROOT / "xl_automation").iterdir() if (p / "__init__.py").exists())
OWN = {"support", "tools", "corpus", "vba", "project"}


def test_every_package_has_its_test_folder_and_every_folder_a_package():
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))}
    assert sorted(folders - OWN) == PACKAGES
    assert not list(TESTS.glob("test_*.py")), "a test file belongs in its package's folder"


def test_no_test_file_imports_another():
    offenders = []
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(TESTS)}: {n}" for n in names if n.split(".")[-1].startswith("test_")]
    assert not offenders, offenders
