"""Every module the program imports is the standard library, the package itself, or a declared dependency."""
from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

from support.paths import ROOT as ROOT
PACKAGE = ROOT / "xl_automation"
# import name -> distribution name, where they differ
DISTRIBUTION = {"python_calamine": "python-calamine", "xlsxwriter": "XlsxWriter", "chinese_calendar": "chinesecalendar",
                "pyopenvba": "pyOpenVBA", "docx": "python-docx", "yaml": "PyYAML",
                "PIL": "pillow"}


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(reqs: list[str]) -> set[str]:
        import re
        return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].strip().lower() for r in reqs}
    extras = {k: names(v) for k, v in project.get("optional-dependencies", {}).items()}
    return names(project["dependencies"]), extras


def _top_level_imports(path: Path) -> set[str]:
    """Imports at module level and inside functions alike: a lazy import is still an import."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


# modules that may import an optional extra, and which one; everything else needs a core dependency
EXTRA_USERS = {"xlwings": {"app.py": "excel", "winenv.py": "excel", "build_vba.py": "build"},
               "pyopenvba": {"build_vba.py": "build"}, "packaging": {"bundle.py": "build"}}


def test_every_import_is_declared():
    core, extras = _declared()
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in sorted(_top_level_imports(path)):
            if name in sys.stdlib_module_names or name == "xl_automation":
                continue
            dist = DISTRIBUTION.get(name, name).lower()
            if name in EXTRA_USERS:
                extra = EXTRA_USERS[name].get(path.name)
                if extra and dist in extras.get(extra, set()):
                    continue
                missing.append(f"{path.relative_to(ROOT)} imports {name}, allowed only in {sorted(EXTRA_USERS[name])}")
            elif dist not in core:
                missing.append(f"{path.relative_to(ROOT)} imports {name}, which pyproject.toml does not declare")
    assert not missing, "\n".join(missing)
