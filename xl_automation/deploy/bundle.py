"""`xl-automation bundle`: an offline install folder (and zip) for Windows PCs without internet.

wheels/ holds the product's wheel and every dependency, `excel` extra included, for win_amd64 and each
Python asked for; workbook/ the built workbooks, add-in and drag-and-drop .cmd files; 安装.cmd,
检查环境.cmd, 安装说明.txt and docs/ sit at the top.

pip evaluates environment markers against the machine it runs on, not against --platform, so a
download made on Linux leaves out Windows-only requirements (xlwings needs pywin32 only on Windows).
After each download the wheels' own Requires-Dist are resolved with Windows markers and whatever is
missing is downloaded too, until nothing is; the bundle is refused if that does not close.
Downloads are cached outside the repository (~/.cache/xl-automation-bundle, or
XL_AUTOMATION_BUNDLE_CACHE) and served from there without the network when they suffice.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from email.parser import Parser
from pathlib import Path

from xl_automation import __version__

from xl_automation.deploy import batch
from xl_automation.excel.build import REPO
from xl_automation.excel.build_vba import XLWINGS_VERSION
from xl_automation.deploy.doctor import DLL, SUPPORTED_PYTHONS
from xl_automation.month_end.submission import sha256_of

PROJECT = "xl-automation"
EXTRA = "excel"
PLATFORM = "win_amd64"
MANIFEST = "bundle.json"
README = "安装说明.txt"
INSTALL, CHECK = "安装.cmd", "检查环境.cmd"
DOCS = ("安装说明.md", "WPS与无Python用户.md")
SOURCES = ("pyproject.toml", "README.md", "xl_automation")
ZIP_TIME = (2026, 11, 1, 0, 0, 0)
# pip settings of this machine that must not leak into a bundle (local wheel folders, constraints)
PIP_DROPPED = ("PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_CONSTRAINT", "PIP_REQUIRE_VIRTUALENV", "PIP_TARGET",
               "PIP_ONLY_BINARY", "PIP_PLATFORM", "PIP_PYTHON_VERSION")


class BundleError(Exception):
    """The bundle cannot be made complete; the message says why."""


@dataclass
class Bundle:
    folder: Path
    zip: Path
    wheels: list[str] = field(default_factory=list)
    pythons: list[str] = field(default_factory=list)


def default_cache() -> Path:
    return Path(os.environ.get("XL_AUTOMATION_BUNDLE_CACHE") or Path.home() / ".cache" / "xl-automation-bundle")


def pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PIP_DROPPED}
    env["PIP_CONFIG_FILE"] = os.devnull          # no pip.conf of this machine; PIP_INDEX_URL/PIP_CERT still count
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def pip(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=pip_env())
    return done


def _require(done: subprocess.CompletedProcess, what: str) -> None:
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise BundleError(f"{what}失败：\n{tail}")


# ---- wheels and their requirements, with Windows markers -----------------------------------------

def _key(name: str) -> str:
    from packaging.utils import canonicalize_name
    return canonicalize_name(name)


def wheel_tags(pyver: str) -> set:
    from packaging import tags
    v = tuple(int(x) for x in pyver.split("."))
    cp = f"cp{v[0]}{v[1]}"
    return (set(tags.cpython_tags(python_version=v, abis=[cp, "abi3", "none"], platforms=[PLATFORM]))
            | set(tags.compatible_tags(python_version=v, interpreter=cp, platforms=[PLATFORM])))


def marker_env(pyver: str, extra: str = "") -> dict[str, str]:
    return {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
            "platform_release": "10", "platform_version": "10.0", "python_version": pyver,
            "python_full_version": f"{pyver}.0", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "implementation_version": f"{pyver}.0", "extra": extra}


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str
    version: object
    requires: tuple[str, ...]


def read_wheels(folder: Path, pyver: str) -> dict[str, list[Wheel]]:
    """The wheels in folder that install on Windows x64 with this Python, by distribution."""
    from packaging.utils import parse_wheel_filename
    ok = wheel_tags(pyver)
    out: dict[str, list[Wheel]] = {}
    for path in sorted(folder.glob("*.whl")):
        name, version, _, tags = parse_wheel_filename(path.name)
        if not tags & ok:
            continue
        with zipfile.ZipFile(path) as z:
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            headers = Parser().parsestr(z.read(meta).decode("utf-8"))
        out.setdefault(_key(name), []).append(Wheel(path, name, version, tuple(headers.get_all("Requires-Dist") or ())))
    return out


def unresolved(folder: Path, pyver: str, root: str) -> list[str]:
    """Requirements (Windows markers, this Python) that no wheel in folder satisfies, from `root` down."""
    from packaging.requirements import Requirement
    wheels = read_wheels(folder, pyver)
    missing: list[str] = []
    todo = [(Requirement(root), "")]
    seen: set[tuple[str, str]] = set()
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate(marker_env(pyver, extra)):
            continue
        key = _key(req.name)
        matches = [w for w in wheels.get(key, []) if req.specifier.contains(w.version, prereleases=True)]
        if not matches:
            missing.append(f"{req.name}{req.specifier}")
            continue
        best = max(matches, key=lambda w: w.version)
        for wanted in ("", *sorted(req.extras)):
            if (key, wanted) in seen:
                continue
            seen.add((key, wanted))
            todo += [(Requirement(r), wanted) for r in best.requires]
    return sorted(set(missing))


def xlwings_dll_in(folder: Path, pyver: str) -> str:
    """The xlwings 64-bit DLL's member name inside the bundle's xlwings wheel for this Python."""
    dll = DLL.format(bits=64, version=XLWINGS_VERSION)
    for wheel in read_wheels(folder, pyver).get("xlwings", []):
        with zipfile.ZipFile(wheel.path) as z:
            found = [n for n in z.namelist() if n.endswith("/" + dll)]
        if found:
            return f"{wheel.path.name}/{found[0]}"
    raise BundleError(f"安装包中 Python {pyver} 的 xlwings wheel 里没有 {dll}：按钮将无法使用")


# ---- building ----------------------------------------------------------------------------------

def project_wheel(dest: Path) -> Path:
    """The product's wheel, built from a clean copy of the sources (the checkout stays untouched)."""
    if not (REPO / "pyproject.toml").is_file():
        raise BundleError(f"找不到 {REPO / 'pyproject.toml'}：bundle 需要在源代码仓库中运行")
    with tempfile.TemporaryDirectory(prefix="xl_bundle_src_") as tmp:
        src = Path(tmp, "src")
        src.mkdir()
        for name in SOURCES:
            item = REPO / name
            if item.is_dir():
                shutil.copytree(item, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(item, src / name)
        # an absolute path: a bare name would be looked up on the index
        _require(pip("wheel", "--no-deps", "-q", "-w", str(dest), str(src.resolve())), "构建本程序的 wheel ")
    wheels = sorted(dest.glob(f"xl_automation-{__version__}-*.whl"))
    if not wheels:
        raise BundleError("构建本程序的 wheel 失败：没有生成 wheel 文件")
    return wheels[-1]


def _download(reqs: list[str], pyver: str, dest: Path, cache: Path, links: Path, refresh: bool) -> None:
    """reqs and their dependencies into dest: from the cache alone when it has them, else online into the cache."""
    common = ["download", "-q", "--only-binary=:all:", "--platform", PLATFORM, "--python-version", pyver,
              "--implementation", "cp", "--find-links", str(links)]
    cache.mkdir(parents=True, exist_ok=True)
    offline = [*common, "--no-index", "--find-links", str(cache), "-d", str(dest), *reqs]
    if not refresh and pip(*offline).returncode == 0:
        return
    _require(pip(*common, "-d", str(cache), *reqs), f"下载 Python {pyver} 的依赖（需要联网或 PIP_INDEX_URL）")
    for stale in cache.glob("xl_automation-*.whl"):      # the product comes from this build, never the cache
        stale.unlink()
    _require(pip(*offline), f"从缓存复制 Python {pyver} 的依赖")


def collect_wheels(wheels: Path, pythons: list[str], cache: Path, refresh: bool = False) -> None:
    project = project_wheel(wheels)
    root = f"{PROJECT}[{EXTRA}]=={__version__}"
    for pyver in pythons:
        reqs = [f"{project.resolve()}[{EXTRA}]"]
        for _ in range(6):
            _download(reqs, pyver, wheels, cache / f"cp{pyver.replace('.', '')}-{PLATFORM}", wheels, refresh)
            reqs = unresolved(wheels, pyver, root)
            if not reqs:
                break
        else:
            raise BundleError(f"Python {pyver} 的依赖不完整：{'、'.join(reqs)}")
        xlwings_dll_in(wheels, pyver)


def _prepare(out: Path) -> None:
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file()):
            raise BundleError(f"{out} 已存在且不是以前生成的安装包：请换一个文件夹")
        shutil.rmtree(out)
    out.mkdir(parents=True)


def write_texts(out: Path, pythons: list[str]) -> None:
    (out / INSTALL).write_bytes(batch.batch_bytes(batch.install_cmd(__version__, pythons)))
    (out / CHECK).write_bytes(batch.batch_bytes(batch.check_cmd()))
    # UTF-8 with a BOM: Notepad of every Windows version opens it as UTF-8
    (out / README).write_bytes(b"\xef\xbb\xbf" + batch.readme_txt(__version__, pythons).replace("\n", "\r\n").encode("utf-8"))


def build_bundle(out: str | Path, pythons: list[str] | tuple[str, ...] = SUPPORTED_PYTHONS, *,
                 cache: Path | None = None, refresh: bool = False, progress=None) -> Bundle:
    out = Path(out).resolve()
    pythons = sorted(set(pythons), key=lambda v: tuple(map(int, v.split("."))))
    bad = [v for v in pythons if v not in SUPPORTED_PYTHONS]
    if bad or not pythons:
        raise BundleError(f"不支持的 Python 版本：{'、'.join(bad) or '（未指定）'}；可选 {'、'.join(SUPPORTED_PYTHONS)}")
    _prepare(out)
    say = progress or (lambda text: None)
    say("正在准备 wheel（本程序和全部依赖）……")
    collect_wheels(out / "wheels", pythons, cache or default_cache(), refresh)
    say("正在复制工作簿和说明……")
    shutil.copytree(REPO / "workbook", out / "workbook")
    (out / "docs").mkdir()
    for name in DOCS:
        shutil.copy2(REPO / "docs" / name, out / "docs" / name)
    write_texts(out, pythons)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    manifest = {"product": PROJECT, "version": __version__, "pythons": pythons, "platform": PLATFORM,
                "xlwings": XLWINGS_VERSION,
                "files": {p.relative_to(out).as_posix(): sha256_of(p) for p in files}}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    say("正在打包 zip……")
    archive = out.with_name(out.name + ".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(p for p in out.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{out.name}/{p.relative_to(out).as_posix()}", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, p.read_bytes())
    return Bundle(out, archive, sorted(p.name for p in (out / "wheels").glob("*.whl")), pythons)
