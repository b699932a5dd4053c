"""The CLI as users run it: real subprocesses, exit codes, JSON shapes, files written or left alone."""
import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from support.cli import run
from xl_automation.model import config as cfg
from xl_automation.cli.main import build_parser
from xl_automation.xlsx.fill import fill_ledger
from xl_automation.rules.periods import Period
from xl_automation.demo.sample import sample_rows

NOW = "2026-11-20 12:00"


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    """A ledger made by new-ledger and filled with a month that has the usual slips."""
    path = tmp_path_factory.mktemp("cli") / "张店分公司-2026-11.xlsx"
    done = run("new-ledger", "--window", "ZLS02", "--period", "2026-11", "--out", path)
    assert done.returncode == 0, done.stderr
    conf = cfg.load()
    fill_ledger(path, sample_rows(conf.window("ZLS02"), Period.parse("2026-11"), conf, n=40,
                                  now=datetime(2026, 11, 20, 12)))
    return path


def test_validate_json_shape_exit_code_and_input_untouched(ledger):
    before = digest(ledger)
    done = run("validate", ledger, "--json", "--now", NOW)
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"file", "rows", "errors", "warnings", "findings"}
    assert data["rows"] == 40 and data["errors"] == sum(f["severity"] == "error" for f in data["findings"])
    assert set(data["findings"][0]) == {"code", "severity", "sheet", "row", "column", "cell", "value", "message", "hint"}
    assert {"enum-invalid", "phone-invalid", "id-missing", "refusal-not-allowed"} <= {f["code"] for f in data["findings"]}
    assert digest(ledger) == before


def test_flag_json_has_per_row_status(ledger):
    done = run("flag", ledger, "--json", "--now", NOW)
    data = json.loads(done.stdout)
    assert len(data["status"]) == 40
    assert {"row", "request_id", "minutes", "margin", "status"} == set(data["status"][0])
    assert sum(data["status_counts"].values()) == sum(1 for s in data["status"] if s["status"])


def test_annotate_twice_gives_the_same_file_and_validate_then_flag_agree(ledger, tmp_path):
    copy = tmp_path / ledger.name
    copy.write_bytes(ledger.read_bytes())
    assert run("validate", copy, "--annotate", "--now", NOW).returncode == 1
    first = digest(copy)
    assert first != digest(ledger)
    run("flag", copy, "--annotate", "--now", NOW)
    assert digest(copy) == first


def test_open_file_is_refused_for_annotation(ledger, tmp_path):
    copy = tmp_path / ledger.name
    copy.write_bytes(ledger.read_bytes())
    (tmp_path / ("~$" + ledger.name)).write_bytes(b"lock")
    done = run("validate", copy, "--annotate", "--now", NOW)
    assert done.returncode == 2 and "~$" in done.stderr and "Traceback" not in done.stderr
    assert digest(copy) == digest(ledger)


@pytest.mark.parametrize("content, expected", [(b"", "空"), (b"hello", "不是 Excel 工作簿")])
def test_unusable_files_exit_2_with_a_chinese_line(tmp_path, content, expected):
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(content)
    done = run("validate", bad)
    assert done.returncode == 2 and expected in done.stderr and "坏文件.xlsx" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_clean_ledger_exits_0(tmp_path):
    path = tmp_path / "clean.xlsx"
    assert run("new-ledger", "--window", "ZLS01", "--period", "2026-11", "--out", path).returncode == 0
    conf = cfg.load()
    fill_ledger(path, sample_rows(conf.window("ZLS01"), Period.parse("2026-11"), conf, n=15,
                                  now=datetime(2026, 11, 20, 12), mistakes=False))
    done = run("validate", path, "--now", NOW)
    assert done.returncode == 0, done.stdout


def test_new_ledger_refuses_unknown_window_and_overwrite(ledger, tmp_path):
    done = run("new-ledger", "--window", "NOPE", "--period", "2026-11", "--out", tmp_path / "x.xlsx")
    assert done.returncode == 2 and "ZLS01" in done.stderr
    done = run("new-ledger", "--window", "ZLS02", "--period", "2026-11", "--out", ledger)
    assert done.returncode == 2 and "已存在" in done.stderr


def test_bad_now_and_bad_period_are_one_line_errors(ledger, tmp_path):
    assert "--now" in run("validate", ledger, "--now", "明天").stderr
    done = run("new-ledger", "--window", "ZLS02", "--period", "2026-13", "--out", tmp_path / "y.xlsx")
    assert done.returncode == 2 and "YYYY-MM" in done.stderr


def test_config_json_lists_windows_and_policy():
    data = json.loads(run("config", "--json").stdout)
    assert {"code", "name", "company"} <= set(data["windows"][0])
    assert data["policy"]["sla_minutes"] == 120 and data["policy"]["clock"] == "elapsed"


def test_user_config_overrides_policy_and_bad_config_is_reported(tmp_path, ledger):
    good = tmp_path / "c.json"
    good.write_text(json.dumps({"policy": {"sla_minutes": 60}}), encoding="utf-8")
    assert json.loads(run("--config", good, "config", "--json").stdout)["policy"]["sla_minutes"] == 60
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"policy": {"clock": "sundial"}}), encoding="utf-8")
    done = run("--config", bad, "validate", ledger)
    assert done.returncode == 2 and "policy/clock" in done.stderr


def test_every_command_has_help_with_an_example():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, sp in sub.choices.items():
        assert sp.description and "示例" in (sp.epilog or ""), name
        for action in sp._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.dest}"


def test_flag_shows_an_uncovered_calendar_year_and_the_rows_without_a_clock(tmp_path):
    """A working-hours clock over 2027 (no holiday data) is a warning in flag's text and JSON."""
    from support.ledger_files import Formatted, sample_row, write_ledger
    start = datetime(2027, 1, 8, 16, 0)
    rows = [sample_row(0, start=start) | {"posted_at": None},
            sample_row(1, start=start) | {"replied_at": Formatted(datetime(2027, 1, 9), "yyyy-mm-dd"), "posted_at": None}]
    path = write_ledger(tmp_path / "2027.xlsx", rows)
    config = tmp_path / "hours.json"
    config.write_text(json.dumps({"policy": {"clock": "working-hours"}}), encoding="utf-8")
    text = run("--config", config, "flag", path, "--now", "2027-01-20 12:00")
    assert "2027 年的法定节假日和调休数据缺失" in text.stdout, text.stdout + text.stderr
    assert "1 行没有时限状态" in text.stdout
    data = json.loads(run("--config", config, "flag", path, "--json", "--now", "2027-01-20 12:00").stdout)
    assert [f["code"] for f in data["findings"]].count("calendar-uncovered") == 1
    assert data["status"][1]["status"] is None and data["status"][0]["status"] is not None
    elapsed = run("flag", path, "--now", "2027-01-20 12:00")
    assert "法定节假日" not in elapsed.stdout


def test_commands_that_read_no_configuration_run_whatever_the_configuration_file_says(tmp_path):
    """安装.cmd runs install-excel on a PC whose XL_AUTOMATION_CONFIG may still be an earlier version's file (a renamed
    setting now stops every command that reads it): an upgrade must not stop half way over a file it does not use."""
    import os
    from support.paths import ROOT
    old = tmp_path / "旧配置.json"
    old.write_text(json.dumps({"policy": {"organisation_words": ["公司"]}}, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "XL_AUTOMATION_CONFIG": str(old), "HOME": str(tmp_path / "home"),
           "USERPROFILE": str(tmp_path / "home")}
    refused = run("config", env=env)
    assert refused.returncode == 2 and "organisation_words" in refused.stderr     # the commands that read it say so
    done = run("install-excel", "--from", ROOT / "workbook", "--to", tmp_path / "综合受理", env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "综合受理").iterdir() if p.suffix != ".conf") == \
        sorted(p.name for p in (ROOT / "workbook").iterdir())
    built = run("build", tmp_path / "树", "--macros", ROOT / "macros", env=env)
    assert built.returncode == 0 and (tmp_path / "树" / "workbook").is_dir(), built.stderr


@pytest.mark.parametrize("argv", [
    ["build-templates", "{file}"],
    ["new-ledger", "--window", "ZLS01", "--period", "2026-11", "--out", "{file}/台账.xlsx"],
    ["demo", "--out", "{file}"],
])   # submit --to a file: tests/month_end/test_month_end.py
def test_a_file_where_a_folder_is_needed_is_one_line(tmp_path, argv):
    file = tmp_path / "不是文件夹"
    file.write_text("x", encoding="utf-8")
    done = run(*[a.format(file=file) for a in argv])
    assert done.returncode in (1, 2) and "内部错误" not in done.stderr and "Traceback" not in done.stderr
    assert str(file) in done.stderr + done.stdout and len(done.stderr.strip().splitlines()) <= 1, done.stderr


def test_a_bad_since_is_named_as_since(ledger, tmp_path):
    done = run("new-ledger", "--from", ledger, "--out", tmp_path / "下月.xlsx", "--since", "不是时间")
    assert done.returncode == 2 and "--since “不是时间”" in done.stderr and "--now" not in done.stderr, done.stderr


def test_control_characters_from_a_workbook_do_not_reach_the_terminal(tmp_path):
    """A cell holding ESC sequences (Excel stores them as _x001B_) was printed raw in the finding that
    quotes it: "\\x1b[2J\\x1b[H" clears the screen and moves the cursor, so the summary and the errors
    above it vanish and whatever follows reads as the whole result. Text output shows such a character as
    U+FFFD; --json keeps the exact value, escaped."""
    path = tmp_path / "ZLS01.xlsx"
    assert run("new-ledger", "--window", "ZLS01", "--period", "2026-11", "--out", path).returncode == 0
    conf = cfg.load()
    row = sample_rows(conf.window("ZLS01"), Period.parse("2026-11"), conf, n=1, now=datetime(2026, 11, 20, 12))[0]
    fill_ledger(path, [dict(row, channel="窗口\x1b[2J\x1b[H\x07现\x9b场")])
    done = run("validate", path, "--now", NOW)
    assert done.returncode == 1
    assert not any(ch in done.stdout + done.stderr for ch in "\x1b\x07\x9b"), repr(done.stdout)
    assert "“窗口\ufffd[2J\ufffd[H\ufffd现\ufffd场”不是“受理渠道”的可选值" in done.stdout
    data = json.loads(run("validate", path, "--json", "--now", NOW).stdout)
    (finding,) = [f for f in data["findings"] if f["code"] == "enum-invalid"]
    assert finding["value"] == "窗口\x1b[2J\x1b[H\x07现\x9b场"
