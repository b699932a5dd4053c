"""Real-world spreadsheets (tests/corpus) and mutants of the product's own files, through the CLI as users
run it: every file ends with exit 0, 1 or 2 and one line, no traceback, no abort of the main process,
a bounded main-process peak, and the other files' results unchanged."""
import json
import os
import shutil
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from xl_automation.model import config as cfg
from xl_automation.xlsx.fill import fill_ledger
from xl_automation.xlsx.isolation import FAULT_ENV, read_many
from xl_automation.model.ledger import LedgerError
from xl_automation.rules.periods import Period
from xl_automation.demo.sample import sample_rows

from support import mutate
from support.ledger_files import convert_with_soffice
from support.ledger_files import stray_cell_ledger

from support.paths import ROOT as ROOT
from support.paths import CORPUS, SUPPORT
PEAK_CLI = SUPPORT / "peak_cli.py"
CONF = cfg.load()
PERIOD = Period.parse("2026-11")
NOW = "2026-11-25 10:00"
MAIN_PEAK_MB = 150          # the CLI process itself (measured 31-36 MB): it never parses a branch file
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md")


def cli(*args, env=None, tmp: Path):
    """The CLI in a subprocess; returns (exit code, stdout, stderr, main-process peak in MB)."""
    peak = tmp / f"peak-{uuid.uuid4().hex}.txt"
    done = subprocess.run([sys.executable, str(PEAK_CLI), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, env={**os.environ, "PEAK_FILE": str(peak), **(env or {})})
    mb = int(peak.read_text()) / 1024 if peak.exists() else None
    return done.returncode, done.stdout, done.stderr, mb


def assert_clean(code, out, err, mb, what):
    assert code in (0, 1, 2), f"{what}: exit {code} (a signal is negative)\n{err[-2000:]}"
    assert "Traceback" not in out + err and "panicked" not in err and "stack backtrace" not in err, what
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip() and not line.startswith("提醒：")]
        assert len(lines) == 1 and lines[0].startswith("无法使用："), f"{what}: {err!r}"
        assert Path(what).name in lines[0], f"{what}: the message names the file"
    assert mb is not None and mb < MAIN_PEAK_MB, f"{what}: main process peaked at {mb} MB"


def run_all(jobs):
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda job: job(), jobs))


def test_the_corpus_sample_is_diverse_and_documented():
    sources = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    assert len(CORPUS_FILES) >= 50 and sum(p.stat().st_size for p in CORPUS_FILES) < 4 << 20
    for p in CORPUS_FILES:
        assert f"`{p.parent.name}/{p.name}`" in sources, f"{p} is not in SOURCES.md"
    assert {p.suffix for p in CORPUS_FILES} >= {".xls", ".xlsx", ".xlsm", ".xlsb", ".ods"}


def test_validate_over_the_corpus_sample(tmp_path):
    results = run_all([lambda p=p: (p, *cli("validate", p, "--now", NOW, tmp=tmp_path)) for p in CORPUS_FILES])
    for p, code, out, err, mb in results:
        assert_clean(code, out, err, mb, str(p))
    codes = {p.name: code for p, code, *_ in results}
    assert codes["Test_git_issue_382_oom.xls"] == 2 and codes["51535.xls"] == 2
    assert sum(c == 2 for c in codes.values()) >= len(codes) - 2     # none of them is a ledger


def test_the_claims_that_stormed_memory_are_refused_unparsed(tmp_path):
    code, _, err, _ = cli("validate", CORPUS / "exceldatareader" / "Test_git_issue_382_oom.xls", tmp=tmp_path)
    assert code == 2 and "OLE 扇区链成环" in err
    code, _, err, _ = cli("validate", CORPUS / "poi" / "51535.xls", tmp=tmp_path)
    assert code == 2 and "65,536 行 × 256 列" in err


def test_submit_over_the_corpus_sample(tmp_path):
    inbox = tmp_path / "inbox"
    sample = CORPUS_FILES[::3]
    results = run_all([lambda p=p: (p, *cli("submit", p, "--to", inbox, "--period", "2026-11", "--now", NOW,
                                             tmp=tmp_path)) for p in sample])
    for p, code, out, err, mb in results:
        assert_clean(code, out, err, mb, str(p))
    assert not inbox.exists() or not any(inbox.iterdir()), "nothing from the corpus is a submittable ledger"


def make_ledger(folder: Path, code: str, tmp: Path) -> Path:
    path = folder / f"{code}.xlsx"
    assert cli("new-ledger", "--window", code, "--period", "2026-11", "--out", path, tmp=tmp)[0] == 0
    fill_ledger(path, sample_rows(CONF.window(code), PERIOD, CONF, n=25, now=datetime(2026, 11, 24, 10),
                                  mistakes=False))
    return path


@pytest.fixture(scope="module")
def good_inbox(tmp_path_factory):
    """Two windows' submissions and one plain ledger: the month without any bad file."""
    work = tmp_path_factory.mktemp("good")
    inbox = work / "inbox"
    for code in ("ZLS01", "ZLS02"):
        ledger = make_ledger(work, code, work)
        assert cli("submit", ledger, "--to", inbox, "--now", "2026-11-24 09:00", tmp=work)[0] == 0
    shutil.copy(make_ledger(work, "ZLS03", work), inbox / "ZLS03-台账.xlsx")
    stamp = datetime(2026, 11, 24, 12).timestamp()      # a plain ledger is handed in when last saved
    os.utime(inbox / "ZLS03-台账.xlsx", (stamp, stamp))
    return inbox


def consolidate_json(inbox: Path, tmp: Path, env=None) -> tuple[dict, float]:
    code, out, err, mb = cli("consolidate", inbox, "--period", "2026-11", "--out", tmp / "月报.xlsx", "--json",
                             "--now", NOW, env=env, tmp=tmp)
    assert_clean(code, out, err, mb, str(inbox))
    assert code == 0, err
    return json.loads(out), mb


def comparable(summary: dict, *ignore: str) -> dict:
    """The summary without the rejected files and without the paths of what the run wrote (the archive
    block names its file and how many copies came from its cache: the run's, not the data's)."""
    return {k: v for k, v in summary.items()
            if k not in ("files_rejected", "archive", *ignore) and not (isinstance(v, str) and Path(v).is_absolute())}


def test_a_crashing_file_and_a_memory_storm_leave_the_good_windows_exactly_as_they_were(good_inbox, tmp_path):
    (tmp_path / "a").mkdir()
    clean, _ = consolidate_json(good_inbox, tmp_path / "a")
    bad = tmp_path / "inbox"
    shutil.copytree(good_inbox, bad)
    shutil.copy(good_inbox / "ZLS03-台账.xlsx", bad / "ZLS04-崩溃.xlsx")    # aborts the parser (test hook)
    stray_cell_ledger(bad / "ZLS05-远处单元格.xlsx")                         # a real 5 KB memory storm
    (tmp_path / "b").mkdir()
    dirty, mb = consolidate_json(bad, tmp_path / "b", env={FAULT_ENV: "abort:ZLS04-崩溃.xlsx"})
    assert comparable(dirty) == comparable(clean)
    assert clean["files_rejected"] == [] and "ZLS03" in clean["windows_submitted"]
    reasons = {r["file"]: r["reason"] for r in dirty["files_rejected"]}
    assert set(reasons) == {"ZLS04-崩溃.xlsx", "ZLS05-远处单元格.xlsx"}
    assert "解析程序异常终止" in reasons["ZLS04-崩溃.xlsx"] and "SIGABRT" in reasons["ZLS04-崩溃.xlsx"]
    assert "内存超过上限" in reasons["ZLS05-远处单元格.xlsx"]
    import openpyxl
    cells = {str(v) for ws in openpyxl.load_workbook(tmp_path / "b" / "月报.xlsx", read_only=True)
             for row in ws.iter_rows(values_only=True) for v in row}
    assert {"ZLS04-崩溃.xlsx", "ZLS05-远处单元格.xlsx"} <= cells, "the report lists the rejected files"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory, good_inbox):
    """The product's own files: the template, a filled ledger, a submission copy; a LibreOffice .xls of
    the ledger when soffice is installed, else a corpus .xls written by OpenOffice."""
    work = tmp_path_factory.mktemp("seeds")
    ledger = good_inbox / "ZLS03-台账.xlsx"
    out = [ROOT / "templates" / "综合受理台账模板.xlsx", ledger, next(good_inbox.glob("*.xlsx"))]
    if shutil.which("soffice"):
        out.append(convert_with_soffice(ledger, "xls", work))
    else:
        out.append(CORPUS / "exceldatareader" / "Test_Excel_OpenOffice.xls")
    return out


def test_fuzzed_files_are_each_read_or_refused_in_process_api(seeds, tmp_path):
    folder = tmp_path / "fuzz"
    folder.mkdir()
    paths = []
    for name, data in mutate.cases(seeds, 160, seed=8):
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    assert all(data not in {p.read_bytes() for p in seeds} for _, data in mutate.cases(seeds, 20, seed=8))
    results = read_many(paths)
    assert len(results) == len(paths) and all(r is not None for r in results)
    outcomes: dict[str, set[str]] = {}
    for p, r in zip(paths, results):
        outcomes.setdefault(p.name.split("-", 1)[1].rsplit("-", 1)[0], set()).add(
            r.finding.code if isinstance(r, LedgerError) else "read")
    # every kind of mutation was tried; looping chains and inflated sizes were refused at least once
    assert {k.split("-", 1)[0] for k in outcomes} >= {"flip", "truncate", "zip", "swap", "ole"}
    assert any(outcomes[k] - {"read"} for k in outcomes if k.startswith("ole-chain-loop"))
    assert any(outcomes[k] - {"read"} for k in outcomes if k.startswith("zip-central-size"))


def test_fuzzed_files_under_validate_submit_and_consolidate(seeds, good_inbox, tmp_path):
    folder = tmp_path / "fuzz"
    folder.mkdir()
    for name, data in mutate.cases(seeds, 30, seed=21):
        (folder / name).write_bytes(data)
    files = sorted(folder.iterdir())
    jobs = [lambda p=p: (p, *cli("validate", p, "--now", NOW, tmp=tmp_path)) for p in files]
    jobs += [lambda p=p: (p, *cli("submit", p, "--to", tmp_path / "out", "--period", "2026-11", "--now", NOW,
                                   tmp=tmp_path)) for p in files[::3]]
    for p, code, out, err, mb in run_all(jobs):
        assert_clean(code, out, err, mb, str(p))
    (tmp_path / "a").mkdir()
    clean, _ = consolidate_json(good_inbox, tmp_path / "a")
    inbox = tmp_path / "inbox"
    shutil.copytree(good_inbox, inbox)
    old = datetime(2026, 11, 1, 12).timestamp()      # saved before the real submissions: they stay in force
    for p in files:
        shutil.copy(p, inbox / f"ZLS09-{p.name}")
        os.utime(inbox / f"ZLS09-{p.name}", (old, old))
    (tmp_path / "b").mkdir()
    dirty, _ = consolidate_json(inbox, tmp_path / "b")
    ignore = ("files_skipped", "files_superseded", "windows_resubmitted")
    assert comparable(dirty, *ignore) == comparable(clean, *ignore)
    accounted = {r["file"] for r in dirty["files_rejected"] + dirty["files_skipped"]} | set(dirty["files_superseded"])
    assert {f"ZLS09-{p.name}" for p in files} <= accounted, "every bad file is listed, none silently dropped"


@pytest.mark.parametrize("fault, words", [("abort", "SIGABRT"), ("memory", "内存超过上限"), ("hang", "秒仍未完成")])
def test_a_single_file_command_says_what_killed_its_parser_in_one_line(good_inbox, tmp_path, fault, words):
    ledger = tmp_path / "台账.xlsx"
    shutil.copy(good_inbox / "ZLS03-台账.xlsx", ledger)
    conf = tmp_path / "limits.json"
    conf.write_text('{"limits": {"memory_mb": 400, "seconds_per_file": 2}}', encoding="utf-8")
    for command in (["validate", ledger], ["flag", ledger], ["submit", ledger, "--to", tmp_path / "inbox"]):
        code, out, err, mb = cli("--config", conf, *command, "--now", NOW, env={FAULT_ENV: f"{fault}:台账.xlsx"},
                                 tmp=tmp_path)
        assert code == 2 and words in err, (command, err)
        assert_clean(code, out, err, mb, str(ledger))
    assert not (tmp_path / "inbox").exists()
