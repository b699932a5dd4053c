"""The offline bundle: built for real (pip download for win_amd64), proven to resolve with the network off,
Windows-only requirements included, the xlwings DLL inside; its batch files checked as the text cmd.exe reads.

Downloads are cached in ~/.cache/xl-automation-bundle (or XL_AUTOMATION_BUNDLE_CACHE), outside the repo.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from xl_automation import __version__

from xl_automation.deploy import batch
from xl_automation.deploy import bundle as BU
from xl_automation.excel.build import REPO, WRAPPERS
from xl_automation.excel.build_vba import XLWINGS_VERSION
from xl_automation.cli.main import build_parser
from xl_automation.deploy.doctor import SUPPORTED_PYTHONS

ROOT_REQ = f"xl-automation[excel]=={__version__}"
# cmd metacharacters: a GBK trail byte equal to one of them would split a line on a non-936 console
CMD_SPECIAL = set(b'|^&<>%()"!\\')
PATH_VARS = ("%~dp0", "%~1", "%~nx1", "%WHEELS%", "%BUNDLE%", "%VENV%", "%VPY%", "%HOME_DIR%", "%TARGET%",
             f"%{batch.PYTHON_VAR}%", "%TO%")


def modern_pip() -> Path:
    """A pip >= 24 wheel (cached beside the bundle downloads), run as `python pip.whl/pip`.

    pip before 24 checks Requires-Python of a `--target --python-version` install against the interpreter
    running pip (numpy for 3.12 "requires a different Python: 3.11"), so the proof needs a newer pip.
    """
    tools = BU.default_cache() / "tools"
    found = sorted(tools.glob("pip-2[4-9]*.whl")) + sorted(tools.glob("pip-[3-9]*.whl"))
    if not found:
        done = BU.pip("download", "-q", "--no-deps", "--only-binary=:all:", "pip>=24", "-d", str(tools))
        assert done.returncode == 0, done.stderr
        found = sorted(tools.glob("pip-*.whl"))
    return found[-1] / "pip"


def offline_install(wheels: Path, pyver: str, target: Path) -> subprocess.CompletedProcess:
    """The proof the issue asks for: pip resolves the product for Windows with no index at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return subprocess.run(
        [sys.executable, str(modern_pip()), "--isolated", "install", "--dry-run", "--no-index", "--find-links", str(wheels),
         "--platform", "win_amd64", "--only-binary=:all:", "--python-version", pyver, "--implementation", "cp",
         "--target", str(target), ROOT_REQ], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> BU.Bundle:
    out = tmp_path_factory.mktemp("bundle") / "综合受理 离线安装包"      # Chinese and a space, like IT's folders
    return BU.build_bundle(out, ["3.12"])


def assert_resolves_offline(bundle: BU.Bundle, pyver: str, tmp: Path) -> None:
    done = offline_install(bundle.folder / "wheels", pyver, tmp / f"target-{pyver}")
    assert done.returncode == 0, done.stderr[-2000:]
    would = done.stdout
    assert f"xl-automation-{__version__}" in would and f"xlwings-{XLWINGS_VERSION}" in would, would
    # and with Windows markers: pip above evaluates them for Linux, so pywin32 would not be asked for there
    assert BU.unresolved(bundle.folder / "wheels", pyver, ROOT_REQ) == []
    dll = BU.xlwings_dll_in(bundle.folder / "wheels", pyver)
    wheel, member = dll.split("/", 1)
    with zipfile.ZipFile(bundle.folder / "wheels" / wheel) as z:
        assert z.getinfo(member).file_size > 100_000
        assert f"cp{pyver.replace('.', '')}" in wheel and wheel.endswith("win_amd64.whl")


def test_bundle_resolves_offline_for_one_python(built, tmp_path):
    assert_resolves_offline(built, "3.12", tmp_path)
    assert any(w.startswith("pywin32-") and "cp312" in w for w in built.wheels)


@pytest.mark.slow
def test_bundle_resolves_offline_for_every_supported_python(tmp_path):
    bundle = BU.build_bundle(tmp_path / "全部版本", list(SUPPORTED_PYTHONS))
    assert bundle.pythons == list(SUPPORTED_PYTHONS)
    for pyver in SUPPORTED_PYTHONS:
        assert_resolves_offline(bundle, pyver, tmp_path)
    text = (bundle.folder / BU.INSTALL).read_bytes().decode(batch.BATCH_ENCODING)
    assert "in ((3,11),(3,12),(3,13),)" in text and "for %%v in (3.13 3.12 3.11)" in text


def test_a_windows_only_requirement_left_out_is_found(built, tmp_path):
    """What pip on Linux would ship: everything but pywin32. The marker check must say so."""
    partial = tmp_path / "wheels"
    partial.mkdir()
    for w in (built.folder / "wheels").glob("*.whl"):
        if not w.name.startswith("pywin32-"):
            shutil.copy2(w, partial / w.name)
    assert offline_install(partial, "3.12", tmp_path / "t").returncode == 0      # pip on Linux does not notice
    assert BU.unresolved(partial, "3.12", ROOT_REQ) == ["pywin32>=224"]
    assert BU.unresolved(partial, "3.11", ROOT_REQ)                              # no cp311 wheels at all
    with pytest.raises(BU.BundleError, match="xlwings"):
        BU.xlwings_dll_in(partial, "3.13")


def test_marker_environment_is_windows():
    from packaging.markers import Marker
    env = BU.marker_env("3.11")
    assert Marker('platform_system == "Windows" and sys_platform == "win32" and os_name == "nt"').evaluate(env)
    assert not Marker('platform_system == "Darwin"').evaluate(env)
    assert Marker('python_version < "3.12"').evaluate(env) and not Marker('python_version >= "3.12"').evaluate(env)


def test_bundle_holds_workbooks_docs_manifest_and_zip(built):
    folder = built.folder
    for p in (REPO / "workbook").iterdir():
        assert (folder / "workbook" / p.name).read_bytes() == p.read_bytes(), p.name
    for name in BU.DOCS:
        assert (folder / "docs" / name).is_file()
    manifest = json.loads((folder / BU.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["version"] == __version__ and manifest["pythons"] == ["3.12"]
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != BU.MANIFEST)
    assert sorted(manifest["files"]) == files
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest, rel
    with zipfile.ZipFile(built.zip) as z:
        names = sorted(n.split("/", 1)[1] for n in z.namelist())
        assert all(n.startswith(folder.name + "/") for n in z.namelist())
        assert z.testzip() is None
    assert names == sorted(files + [BU.MANIFEST])
    readme = (folder / BU.README).read_bytes()
    assert readme.startswith(b"\xef\xbb\xbf") and b"\r\n" in readme and b"\n" not in readme.replace(b"\r\n", b"")
    assert "安装.cmd" in readme.decode("utf-8-sig") and "检查环境.cmd" in readme.decode("utf-8-sig")


def test_bundle_refuses_a_folder_that_is_not_a_bundle(tmp_path):
    (tmp_path / "别的文件.txt").write_text("x", encoding="utf-8")
    with pytest.raises(BU.BundleError, match="不是以前生成的安装包"):
        BU.build_bundle(tmp_path, ["3.12"])
    with pytest.raises(BU.BundleError, match="不支持"):
        BU.build_bundle(tmp_path / "new", ["3.10"])
    assert (tmp_path / "别的文件.txt").exists() and not (tmp_path / "new").exists()


# ---- the batch files as cmd.exe reads them ---------------------------------------------------------

def batch_files(folder: Path) -> dict[str, bytes]:
    out = {p.name: p.read_bytes() for p in folder.glob("*.cmd")}
    out |= {f"workbook/{p.name}": p.read_bytes() for p in (folder / "workbook").glob("*.cmd")}
    return out


def quoted_everywhere(line: str, var: str) -> bool:
    """Every occurrence of var in line lies inside double quotes."""
    for m in re.finditer(re.escape(var), line):
        if line[:m.start()].count('"') % 2 == 0:
            return False
    return True


def test_every_batch_file_is_gbk_crlf_and_switches_to_936_before_any_chinese(built):
    files = batch_files(built.folder)
    assert {"安装.cmd", "检查环境.cmd", *(f"workbook/{n}" for n in WRAPPERS)} == set(files)
    for name, data in files.items():
        assert not data.startswith(b"\xef\xbb\xbf"), f"{name}: no BOM (cmd would run it as a command)"
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b""), f"{name}: CRLF only"
        text = data.decode(batch.BATCH_ENCODING)                 # strict: every byte is GBK
        lines = text.split("\r\n")
        assert lines[0] == "@echo off"
        chcp = next(i for i, ln in enumerate(lines) if ln.startswith("chcp 936"))
        assert all(ln.isascii() for ln in lines[:chcp + 1]), f"{name}: Chinese before chcp 936"
        assert "chcp 65001" not in text
        assert lines[-2].startswith("if defined XL_OLDCP chcp") or lines[-3].startswith("if defined XL_OLDCP chcp")
        for ch in set(text):
            raw = ch.encode(batch.BATCH_ENCODING)
            assert len(raw) == 1 or raw[1] not in CMD_SPECIAL, f"{name}: {ch!r} has a cmd metacharacter as trail byte"


def test_every_path_in_a_batch_file_is_quoted(built):
    for name, data in batch_files(built.folder).items():
        for line in data.decode(batch.BATCH_ENCODING).split("\r\n"):
            code = line.strip()
            if code.lower().startswith("rem") or not code:
                continue
            for var in PATH_VARS:
                assert quoted_everywhere(code, var), f"{name}: {var} unquoted in: {code}"
            assert '\\"' not in code, f"{name}: a quoted path ending in a backslash escapes its quote: {code}"


def labels_and_gotos(text: str) -> tuple[set[str], set[str]]:
    labels = {ln[1:].strip().lower() for ln in text.splitlines() if ln.startswith(":") and not ln.startswith("::")}
    gotos = {g.lower() for g in re.findall(r"\bgoto\s+(\w+)", text, re.I)} - {":eof"}
    return labels, gotos


def test_install_cmd_checks_every_step_and_says_in_chinese_what_failed(built):
    text = (built.folder / BU.INSTALL).read_bytes().decode(batch.BATCH_ENCODING).replace("\r\n", "\n")
    labels, gotos = labels_and_gotos(text)
    assert gotos <= labels, gotos - labels
    lines = text.splitlines()
    steps = [i for i, ln in enumerate(lines)
             if re.match(r'(%PY%|"%VPY%") -m (venv|pip|xl_automation install-excel)|setx |%PY% -c', ln)]
    assert len(steps) == 6
    for i in steps:
        assert re.match(r"if errorlevel 1 goto \w+$", lines[i + 1]), lines[i]
    for label in (g for g in gotos if g.startswith(("no_", "bad_", "fail_", "venv_"))):
        block = text.split(f":{label}\n", 1)[1].split("\n:", 1)[0]
        assert re.search(r"echo .*[\u4e00-\u9fff]", block) and 'set "RC=2"' in block, label
    pip_line = next(ln for ln in lines if "-m pip install" in ln)
    assert '--no-index --find-links "%WHEELS%"' in pip_line and f'"xl-automation[excel]=={__version__}"' in pip_line
    assert 'set "WHEELS=%~dp0wheels"' in text and (built.folder / "wheels").is_dir()
    assert '--from "%BUNDLE%\\workbook"' in text and (built.folder / "workbook").is_dir()
    assert 'for %%v in (3.12) do if not defined PY (py -%%v-64 -c "import sys" >nul 2>nul && set "PY=py -%%v-64")' in text
    assert "in ((3,12),)" in text


def test_the_commands_the_batch_files_run_exist(built, tmp_path):
    parser = build_parser()
    subst = {"%BUNDLE%": str(tmp_path / "包"), "%HOME_DIR%": str(tmp_path / "综合 受理"), "%TARGET%": str(tmp_path)}
    seen = set()
    for name in (BU.INSTALL, BU.CHECK):
        for line in (built.folder / name).read_bytes().decode(batch.BATCH_ENCODING).splitlines():
            if "-m xl_automation" not in line:
                continue
            rest = line.split("-m xl_automation", 1)[1]
            for k, v in subst.items():
                rest = rest.replace(k, v)
            args = parser.parse_args(shlex.split(rest.replace("\\", "/")))
            seen.add(args.command)
    assert seen == {"install-excel", "doctor"}
