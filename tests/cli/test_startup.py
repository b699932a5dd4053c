"""A button click starts Python anew: validate and flag import only what they need.

Not timed (bench/run.py measures the latency); these tests pin which modules a command loads, so
that an import added at the top of a module on the validate path cannot slow every click unnoticed.
"""
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from xl_automation.model import config as cfg
from xl_automation.rules.periods import Period
from xl_automation.demo.sample import sample_rows
from xl_automation.xlsx.values_ledger import write_values_ledger

from support.paths import ROOT as ROOT
NOW = "2026-11-25 10:00"
# each costs a click 10-120 ms to import and is not needed to check a ledger of ordinary rows
HEAVY = ("pandas", "numpy", "jsonschema", "xlsxwriter", "openpyxl", "phonenumbers", "chinese_calendar",
         "lxml", "olefile", "concurrent.futures", "xl_automation.report.report_book", "xl_automation.xlsx.xlsx_spool",
         "xl_automation.xlsx.annotate", "xl_automation.xlsx.template")

PROBE = """
import contextlib, io, json, sys
from xl_automation.cli.main import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules), "out": out.getvalue()}))
"""


def loaded(*argv) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *map(str, argv)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def heavy(modules: list[str]) -> set[str]:
    return {m for m in HEAVY if m in modules}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    conf = cfg.load()
    window = conf.windows[0]
    rows = sample_rows(window, Period.parse("2026-11"), conf, n=200, seed=4, now=datetime(2026, 11, 25, 10),
                       mistakes=False)
    path = tmp_path_factory.mktemp("startup") / "台账.xlsx"
    write_values_ledger(path, rows, {"窗口编码": window.code, "统计周期": "2026-11"})
    return path


@pytest.mark.parametrize("command", [["validate"], ["validate", "--json"], ["flag"], ["flag", "--json"]])
def test_checking_a_ledger_loads_no_heavy_module(ledger, command):
    run = loaded(command[0], ledger, *command[1:], "--now", NOW)
    assert run["code"] in (0, 1) and "200" in run["out"]
    assert heavy(run["modules"]) == set()


def test_annotate_and_odd_numbers_load_what_they_need(ledger, tmp_path):
    """The probe sees imports: writing back needs openpyxl, a short number needs phonenumbers."""
    copy = tmp_path / "台账.xlsx"
    copy.write_bytes(ledger.read_bytes())
    assert "openpyxl" in loaded("validate", copy, "--annotate", "--now", NOW)["modules"]
    conf = cfg.load()
    rows = sample_rows(conf.windows[0], Period.parse("2026-11"), conf, n=20, seed=4,
                       now=datetime(2026, 11, 25, 10), mistakes=False)
    rows[3]["phone"] = "95598"
    odd = tmp_path / "short.xlsx"
    write_values_ledger(odd, rows, {"窗口编码": conf.windows[0].code})
    run = loaded("validate", odd, "--json", "--now", NOW)
    assert "phonenumbers" in run["modules"]
    assert "phone-short" in {f["code"] for f in json.loads(run["out"])["findings"]}


def test_a_user_configuration_is_still_checked_against_its_schema(ledger, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"policy": {"sla_minutes": "两小时"}}), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "xl_automation", "--config", str(bad), "validate", str(ledger)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "sla_minutes" in done.stderr


def test_the_shipped_defaults_satisfy_the_configuration_schema():
    """load() trusts the defaults without jsonschema (0.1 s a click): this is where they are checked."""
    cfg.check(cfg.default_data(), "默认配置")
    broken = cfg.default_data()
    broken["policy"]["sla_minutes"] = "两小时"
    with pytest.raises(cfg.ConfigError):
        cfg.check(broken, "默认配置")


def test_a_report_error_is_still_one_line_and_exit_2(monkeypatch, capsys):
    """cli no longer imports the report writer up front; its ReportError is still a user's message."""
    from xl_automation.cli import main as cli
    from xl_automation.cli import month_end
    from xl_automation.report.report_book import ReportError

    def too_big(args):
        raise ReportError("本期明细超过 Excel 工作表的行数上限")
    monkeypatch.setattr(month_end, "consolidate", too_big)
    code = cli.main(["consolidate", "报送", "--period", "2026-11", "--out", "月报.xlsx"])
    assert code == cli.EXIT_UNUSABLE
    assert capsys.readouterr().err.strip() == "本期明细超过 Excel 工作表的行数上限"
