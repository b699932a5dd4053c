"""The month adds up at its edges: rows left out are named, carried-over requests are not received again,
transfers merge only when plausible, duplicates are listed, the clock's caveats reach every output."""
from __future__ import annotations

import copy
import json
import os
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from support.cli import run
from xl_automation.model import config as cfg
from xl_automation.month_end.collect import Collected, collect
from xl_automation.rules.consolidate import (EXCLUDED_EARLIER, EXCLUDED_LATER, EXCLUDED_NO_TIME, ID_CONFLICT, SAME_ID,
                                       SAME_PHONE_WINDOW, Source, consolidate)
from xl_automation.model.ledger import LedgerRow
from xl_automation.rules.normalize import DateOnly
from xl_automation.month_end.notice import notice_text
from xl_automation.rules.periods import Period
from xl_automation.report.workbook import write_report
from xl_automation.report.list_assessment import ASSESSMENT_FIGURES
from xl_automation.rules.stats import figures
from xl_automation.xlsx.values_ledger import write_values_ledger

from support.rows import good_row

CONF = cfg.load()
PERIOD = Period.parse("2026-11")
NOW = datetime(2026, 11, 25, 10, 0)
INFO = {"窗口编码": "ZLS01", "窗口名称": "营销服务中心", "统计周期": "2026-11"}


def source(window, *rows, name=None):
    return Source(window, Path(name or f"{window}.xlsx"), "0" * 64,
                  [LedgerRow(4 + i, dict(r)) for i, r in enumerate(rows)], "submission")


def ledger_file(path: Path, rows, code="ZLS01") -> Path:
    w = CONF.window(code)
    write_values_ledger(path, rows, {**INFO, "窗口编码": code, "窗口名称": w.name}, constant_memory=False)
    return path


# --- §3 no row leaves without a word ------------------------------------------------------------

EDGE_ROWS = [
    good_row(request_id="IN-1"),
    good_row(request_id="LATER-1", received_at=datetime(2026, 11, 25, 0, 0), posted_at=None, replied_at=None,
             result="办理中", closed_at=None),
    good_row(request_id="EARLY-1", received_at=datetime(2026, 10, 20, 9, 0), posted_at=None,
             replied_at=datetime(2026, 10, 20, 9, 30), closed_at=datetime(2026, 10, 21, 9, 0)),
    good_row(request_id="CARRY-1", received_at=datetime(2026, 10, 20, 9, 0), posted_at=None,
             replied_at=datetime(2026, 10, 20, 9, 30), result="办理中", closed_at=None, unresolved_reason="等待踏勘"),
]


def test_submit_names_every_row_it_leaves_out_on_screen_in_json_and_manifest(tmp_path):
    ledger = ledger_file(tmp_path / "ZLS01.xlsx", EDGE_ROWS)
    done = run("submit", ledger, "--to", tmp_path / "inbox", "--now", "2026-11-25 08:00", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert (data["window"], data["period"], data["rows_in_ledger"], data["rows_submitted"]) == ("ZLS01", "2026-11", 4, 3)
    # issue 9: an earlier period's closed row goes with the submission, the group's archive decides 补报 or known
    assert data["left_out"] == [{"row": 5, "request_id": "LATER-1", "reason": EXCLUDED_LATER}]
    assert (data["rows_earlier_closed"], data["rows_by_period"]) == (1, {"2026-10": 2, "2026-11": 1})
    manifest = json.loads(Path(data["manifest"]).read_text(encoding="utf-8"))
    assert manifest["left_out"] == data["left_out"] and manifest["rows_in_ledger"] == 4
    text = run("submit", ledger, "--to", tmp_path / "inbox2", "--now", "2026-11-25 08:00")
    assert "未报送 1 行" in text.stdout and "第 5 行 LATER-1" in text.stdout and "第 6 行 EARLY-1" not in text.stdout


def test_consolidate_lists_every_excluded_row_and_reconciles_each_ledger(tmp_path):
    inbox = tmp_path / "inbox"
    ledger = ledger_file(tmp_path / "ZLS01.xlsx", EDGE_ROWS)
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-25 08:00").returncode == 0
    plain = ledger_file(inbox / "ZLS02-台账.xlsx", [good_row(request_id="B-1"), good_row(request_id="B-2", received_at=None),
                                                   good_row(request_id="B-3", received_at=datetime(2026, 12, 1, 9))],
                        code="ZLS02")
    stamp = datetime(2026, 11, 24, 18).timestamp()       # a plain ledger is handed in when it was last saved
    os.utime(plain, (stamp, stamp))
    done = run("consolidate", inbox, "--period", "2026-11", "--out", tmp_path / "r.xlsx", "--json",
               "--now", "2026-11-25 10:00")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    # EARLY-1 (an earlier period's closed row) is submitted since issue 9; with no earlier period in the
    # archive, consolidation applies this period's rules to it and lists it
    assert sorted((x["window"], x["file"], x["row"], x["request_id"], x["reason"]) for x in data["excluded"]) == [
        ("ZLS01", "ZLS01_2026-11_20261125-080000.xlsx", 5, "EARLY-1", EXCLUDED_EARLIER),
        ("ZLS02", plain.name, 5, "B-2", EXCLUDED_NO_TIME), ("ZLS02", plain.name, 6, "B-3", EXCLUDED_LATER)]
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    listed = [r for r in wb["未计入本期"].iter_rows(min_row=4, values_only=True)]
    assert sorted((r[0], r[2], r[3], r[4], r[5]) for r in listed) == sorted(
        (x["window"], x["file"], x["row"], x["request_id"], x["reason"]) for x in data["excluded"])
    notes = [r for r in wb["说明"].iter_rows(values_only=True)]
    per_window = {r[0]: r for r in notes if r[0] in ("ZLS01", "ZLS02") and isinstance(r[2], int)}
    # ledger rows = left out at submit + submitted; submitted = details + merged + excluded
    assert per_window["ZLS01"][2:10] == (4, 1, 3, 3, 2, 0, 1, "相符")
    assert per_window["ZLS02"][2:10] == (3, 0, 3, 3, 1, 0, 2, "相符")


def test_a_manifest_whose_rows_do_not_add_up_is_reported_as_a_loss(tmp_path):
    inbox = tmp_path / "inbox"
    ledger = ledger_file(tmp_path / "ZLS01.xlsx", EDGE_ROWS)
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-25 08:00").returncode == 0
    (manifest,) = inbox.glob("*.manifest.json")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["rows_in_ledger"] = 9                       # the branch's ledger had rows that went nowhere
    manifest.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    collected = collect(inbox, PERIOD, CONF, NOW)
    cons = consolidate(collected.sources, PERIOD, CONF, NOW)
    write_report(tmp_path / "r.xlsx", consolidation=cons, collected=collected, config=CONF, now=NOW)
    notes = [r for r in openpyxl.load_workbook(tmp_path / "r.xlsx")["说明"].iter_rows(values_only=True)]
    row = next(r for r in notes if r[0] == "ZLS01" and isinstance(r[2], int))
    assert row[2] == 9 and row[9].startswith("不相符")



@pytest.mark.parametrize("findings", [
    [{"code": "phone-invalid", "severity": "error", "row": 5, "column": ["联系方式"], "cell": "L5", "value": "x",
      "message": "m", "hint": "h"}],                                               # a list where text belongs
    [{"code": "phone-invalid", "severity": "error", "row": {"r": 5}, "column": "联系方式", "cell": "L5", "value": "x",
      "message": None, "hint": 7}],
    [{"code": "phone-invalid", "severity": "error", "row": 5, "column": "联系方式", "cell": "L5", "value": "x",
      "message": "联系方式\ud800不对", "hint": "h"}],                                # a lone surrogate: no UTF-8
], ids=["list", "types", "surrogate"])
def test_a_manifest_with_malformed_findings_is_rejected_not_fatal(tmp_path, findings):
    """A manifest is the branch's own text: findings of the wrong shape (or a \\ud800 escape, which no UTF-8
    output can hold) stopped consolidate with an internal error for every window. The manifest is now
    refused like any malformed one, named with the reason, and the other windows are consolidated."""
    inbox = tmp_path / "inbox"
    for code in ("ZLS01", "ZLS02"):
        ledger = ledger_file(tmp_path / f"{code}.xlsx", [good_row(request_id=f"{code}-1")], code)
        assert run("submit", ledger, "--to", inbox, "--now", "2026-11-24 08:00").returncode == 0
    manifest = next(inbox.glob("ZLS01_*.manifest.json"))
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["findings"] = findings
    manifest.write_text(json.dumps(data), encoding="utf-8")
    done = run("consolidate", inbox, "--period", "2026-11", "--out", tmp_path / "r.xlsx", "--json",
               "--now", "2026-11-25 10:00", "--no-archive")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["windows_submitted"] == ["ZLS02"]
    (rejected,) = out["files_rejected"]
    assert rejected["file"] == manifest.name and rejected["reason"].startswith("报送清单无法读取或格式不对")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["报送情况"]
    assert any(r[1] == manifest.name for r in sheet.iter_rows(values_only=True))


@pytest.mark.parametrize("change, field", [({"window": 7}, "字段 window"), ({"findings": [{"row": "x"}]}, "字段 findings/0"),
                                           ({"rows": None}, "字段 rows")])
def test_a_manifest_of_the_wrong_shape_is_refused_naming_its_field(tmp_path, change, field):
    inbox = tmp_path / "inbox"
    ledger = ledger_file(tmp_path / "ZLS01.xlsx", [good_row(request_id="ZLS01-1")])
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-24 08:00").returncode == 0
    manifest = next(inbox.glob("ZLS01_*.manifest.json"))
    manifest.write_text(json.dumps({**json.loads(manifest.read_text(encoding="utf-8")), **change}), encoding="utf-8")
    (rejected,) = collect(inbox, PERIOD, CONF, NOW).rejected
    assert rejected["reason"].startswith(f"报送清单无法读取或格式不对：{field}不符合报送清单的格式"), rejected
    assert rejected["reason"].endswith("请让该窗口重新提交")


@pytest.mark.parametrize("copy_file", ["C:ZLS01.xlsx", "ZLS01.xlsx:stream.xlsx", "a|b.xlsx", "tab\tname.xlsx"])
def test_a_manifest_naming_its_copy_with_a_drive_or_a_stream_is_refused(tmp_path, copy_file):
    """copy_file is a bare file name beside the manifest. On Windows "C:ZLS01.xlsx" is a path on drive C:
    (pathlib's with_name raises ValueError there, outside the manifest's checks: consolidate stopped with
    an internal error) and "x.xlsx:s.xlsx" an NTFS stream of another file; no file name holds : | or
    control characters, so the manifest is refused as malformed on every system."""
    from pathlib import PureWindowsPath
    inbox = tmp_path / "inbox"
    ledger = ledger_file(tmp_path / "ZLS01.xlsx", [good_row(request_id="ZLS01-1")])
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-24 08:00").returncode == 0
    manifest = next(inbox.glob("ZLS01_*.manifest.json"))
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["copy_file"] = copy_file
    manifest.write_text(json.dumps(data), encoding="utf-8")
    if copy_file.startswith("C:"):
        with pytest.raises(ValueError):
            PureWindowsPath(manifest).with_name(copy_file)
    collected = collect(inbox, PERIOD, CONF, NOW)
    assert collected.sources == []
    (rejected,) = collected.rejected
    assert rejected["file"] == manifest.name and rejected["reason"].startswith("报送清单无法读取或格式不对")

# --- §4 carried-over requests are not received again --------------------------------------------

def test_a_carried_over_late_request_does_not_drag_this_months_timeliness():
    late_october = good_row(request_id="OLD", received_at=datetime(2026, 10, 20, 9), posted_at=None,
                            replied_at=datetime(2026, 10, 20, 15), result="办理中", closed_at=None,
                            unresolved_reason="等待踏勘")
    closed_now = good_row(request_id="OLD2", received_at=datetime(2026, 10, 21, 9), posted_at=None,
                          replied_at=datetime(2026, 10, 21, 9, 30), closed_at=datetime(2026, 11, 2, 9))
    cons = consolidate([source("ZLS01", late_october, closed_now, good_row(request_id="NEW"))], PERIOD, CONF, NOW)
    f = figures(cons.details)
    assert (f["received"], f["carried_over"], f["carried_closed"]) == (1, 2, 1)
    assert (f["on_time"], f["late"], f["overdue"], f["on_time_rate"]) == (1, 0, 0, 1.0)
    assert f["svc:svc_water"] == 1 and f["result:已办结"] == 1 and f["result:办理中"] == 0


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    work = tmp_path_factory.mktemp("edges")
    inbox = work / "inbox"
    carried = EDGE_ROWS[3]
    a = ledger_file(work / "ZLS01.xlsx", [good_row(request_id="A-1"), carried,
                                          good_row(request_id="A-2", replied_at=datetime(2026, 11, 3, 12, 0))])
    b = ledger_file(work / "ZLS02.xlsx", [good_row(request_id="B-1", result="无法办理", closed_at=None,
                                                   unresolved_reason="用户暂缓安装"),
                                          good_row(request_id="B-2", result="无法办理", closed_at=None,
                                                   unresolved_reason="不属于本单位业务范围")], code="ZLS02")
    assert run("submit", a, "--to", inbox, "--now", "2026-11-25 08:00").returncode == 0
    assert run("submit", b, "--to", inbox, "--now", "2026-11-25 08:00").returncode == 0
    done = run("consolidate", inbox, "--period", "2026-11", "--out", work / "r.xlsx", "--json", "--now", "2026-11-25 10:00")
    assert done.returncode == 0, done.stderr
    return work, json.loads(done.stdout)


def test_window_figures_in_json_are_the_reports_cached_values(month):
    work, data = month
    ws = openpyxl.load_workbook(work / "r.xlsx", data_only=True)["考核"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=5, values_only=True) if r[0]}
    keys = [k for k, _ in ASSESSMENT_FIGURES]
    json_key = {"result:已办结": "closed", "result:无法办理": "unable"}
    assert [w["code"] for w in data["windows"]] == [w.code for w in CONF.windows]
    for w in data["windows"]:
        row = rows[w["code"]]
        for i, key in enumerate(keys, start=4):
            assert row[i] == w[json_key.get(key, key)] or (row[i] is None and w[json_key.get(key, key)] in (None, 0)
                                                          and w["received"] == 0), (w["code"], key)
        assert (row[-2], row[-1]) == (w["score"], w["band"])
    z1 = next(w for w in data["windows"] if w["code"] == "ZLS01")
    assert (z1["received"], z1["carried_over"], z1["on_time"], z1["late"], z1["on_time_rate"]) == (2, 1, 1, 1, 0.5)
    z2 = next(w for w in data["windows"] if w["code"] == "ZLS02")
    assert (z2["unable"], z2["unable_with_reason"]) == (2, 1)


def test_summary_receipts_add_up_over_windows_and_carry_over_has_its_own_column(month):
    work, data = month
    ws = openpyxl.load_workbook(work / "r.xlsx", data_only=True)["汇总"]
    header = [c.value for c in ws[3]]
    group = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "集团合计")
    assert group[header.index("受理总数")] == sum(w["received"] for w in data["windows"]) == 4
    assert group[header.index("结转（往期未办结）")] == sum(w["carried_over"] for w in data["windows"]) == 1


# --- §7 transfers and duplicates ----------------------------------------------------------------

def _transfer(**taker):
    give = good_row(request_id="T-1", received_at=datetime(2026, 11, 10, 9), replied_at=None, posted_at=None,
                    result="已转办", transferred_to="营销服务中心", closed_at=None)
    take = good_row(request_id="T-1", channel="联络群转入", received_at=datetime(2026, 11, 10, 9, 30),
                    replied_at=datetime(2026, 11, 10, 10), **taker)
    return give, take


@pytest.mark.parametrize("taker, merged", [
    ({}, True),                                                                 # same phone and applicant
    ({"phone": "13900000001", "applicant": "李四"}, False),                   # another person: never merged away
])
def test_a_transfer_merges_only_when_it_is_plausibly_the_same_request(taker, merged):
    give, take = _transfer(**taker)
    give["transferred_to"] = "张店分公司"                                       # not the receiving window
    cons = consolidate([source("ZLS02", give), source("ZLS01", take)], PERIOD, CONF, NOW)
    assert (cons.merged, len(cons.details)) == ((1, 1) if merged else (0, 2))
    if not merged:
        assert [(s.kind, s.window, s.other_window) for s in cons.suspects] == [(ID_CONFLICT, "ZLS01", "ZLS02")]
        assert all(d.duplicates for d in cons.details)


def test_a_transfer_naming_the_receiving_window_merges_even_with_a_new_phone():
    give, take = _transfer(phone="13900000001", applicant="李四")
    cons = consolidate([source("ZLS02", give), source("ZLS01", take)], PERIOD, CONF, NOW)
    assert cons.merged == 1 and cons.details[0].window == "ZLS02" and cons.details[0].handled_by == ("ZLS01",)


def test_the_same_id_in_two_windows_without_transfer_is_listed_as_a_likely_duplicate():
    a, b = good_row(request_id="X-1"), good_row(request_id="X-1", phone="13900001111", svc_water=False, svc_gas=True)
    cons = consolidate([source("ZLS01", a), source("ZLS02", b)], PERIOD, CONF, NOW)
    assert cons.merged == 0 and len(cons.details) == 2
    assert [(s.kind, s.request_id) for s in cons.suspects] == [(SAME_ID, "X-1")]


def test_same_window_repeats_on_other_days_are_flagged_but_not_the_same_day():
    first = good_row(request_id="R-1", received_at=datetime(2026, 11, 3, 9))
    same_day = good_row(request_id="R-2", received_at=datetime(2026, 11, 3, 15))
    two_days = good_row(request_id="R-3", received_at=datetime(2026, 11, 5, 8))
    far = good_row(request_id="R-4", received_at=datetime(2026, 11, 20, 8))
    cons = consolidate([source("ZLS01", first, same_day, two_days, far)], PERIOD, CONF, NOW)
    pairs = {(s.kind, s.request_id, s.other_row) for s in cons.suspects}
    assert pairs == {(SAME_PHONE_WINDOW, "R-3", 4), (SAME_PHONE_WINDOW, "R-3", 5)}
    conf = cfg.Config(copy.deepcopy(CONF.data))
    conf.data["policy"]["duplicate_window_days"] = 20
    assert len(consolidate([source("ZLS01", first, same_day, two_days, far)], PERIOD, conf, NOW).suspects) == 5


# --- §2 (consolidation side) a date without a time is counted, without a clock --------------------

def test_a_receipt_written_as_a_date_only_is_counted_in_its_period_without_a_clock(tmp_path):
    day = good_row(request_id="D-1", received_at=DateOnly(datetime(2026, 11, 24)), posted_at=None,
                   replied_at=datetime(2026, 11, 24, 9))
    edge = good_row(request_id="D-2", received_at=DateOnly(datetime(2026, 11, 25)), posted_at=None, replied_at=None,
                    result="办理中", closed_at=None)
    cons = consolidate([source("ZLS01", day, edge, good_row())], PERIOD, CONF, NOW)
    assert [d.values["request_id"] for d in cons.details] == ["D-1", "ZLS01-20261103-001"]
    assert [(x.request_id, x.reason) for x in cons.excluded] == [("D-2", EXCLUDED_LATER)]
    d1 = cons.details[0]
    assert d1.clock.status is None and d1.clock.minutes is None
    f = figures(cons.details)
    assert f["received"] == 2 and f["on_time_rate"] == 1.0 and f["on_time"] == 1
    # and the submission copy keeps it a date: read back, still a date without a time
    path = ledger_file(tmp_path / "d.xlsx", [day])
    from xl_automation.xlsx.reader import read_ledger
    assert isinstance(read_ledger(path).rows[0].values["received_at"], DateOnly)


# --- §6 the clock's caveats reach every output ---------------------------------------------------

def test_an_uncovered_calendar_year_warns_in_consolidate_report_and_notice(tmp_path):
    conf = cfg.Config(copy.deepcopy(CONF.data))
    conf.data["policy"]["clock"] = "working-hours"
    period = Period.parse("2027-01")
    row = good_row(request_id="Y-1", received_at=datetime(2027, 1, 5, 9), posted_at=None,
                   replied_at=datetime(2027, 1, 5, 10), closed_at=datetime(2027, 1, 6, 9))
    cons = consolidate([source("ZLS01", row)], period, conf, datetime(2027, 1, 25, 9))
    assert len(cons.warnings) == 1 and "2027" in cons.warnings[0]
    write_report(tmp_path / "r.xlsx", consolidation=cons, collected=Collected([]), config=conf,
                 now=datetime(2027, 1, 25, 9))
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert "2027" in wb["汇总"]["A2"].value
    assert any(r[0] == "提醒" and "2027" in r[1] for r in wb["说明"].iter_rows(values_only=True))
    assert "2027" in notice_text(Collected([]), cons, conf, datetime(2027, 1, 25, 9)).splitlines()[-1]
    elapsed = consolidate([source("ZLS01", row)], period, CONF, datetime(2027, 1, 25, 9))
    assert elapsed.warnings == []


def test_consolidate_json_carries_the_calendar_warning(tmp_path):
    conf_file = tmp_path / "conf.json"
    conf_file.write_text(json.dumps({"policy": {"clock": "working-hours"}}), encoding="utf-8")
    rows = [good_row(request_id="Y-1", received_at=datetime(2027, 1, 5, 9), posted_at=None,
                     replied_at=datetime(2027, 1, 5, 10), closed_at=datetime(2027, 1, 6, 9))]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_values_ledger(inbox / "ZLS01.xlsx", rows, {**INFO, "统计周期": "2027-01"}, constant_memory=False)
    done = run("--config", conf_file, "consolidate", inbox, "--period", "2027-01", "--out", tmp_path / "r.xlsx",
               "--json", "--now", "2027-01-25 09:00")
    assert done.returncode == 0, done.stderr
    assert any("2027" in w for w in json.loads(done.stdout)["warnings"])
    text = run("--config", conf_file, "consolidate", inbox, "--period", "2027-01", "--out", tmp_path / "r2.xlsx",
               "--now", "2027-01-25 09:00")
    assert "提醒：" in text.stdout and "2027" in text.stdout


# --- notice: the moment it stands for ------------------------------------------------------------

def test_notice_ignores_submissions_made_after_now(tmp_path):
    inbox = tmp_path / "inbox"
    ledger = ledger_file(tmp_path / "ZLS01.xlsx", [good_row()])
    assert run("submit", ledger, "--to", inbox, "--now", "2026-11-24 18:00").returncode == 0
    before = run("notice", inbox, "--period", "2026-11", "--now", "2026-11-24 12:00").stdout
    after = run("notice", inbox, "--period", "2026-11", "--now", "2026-11-24 19:00").stdout
    name = CONF.window("ZLS01").name
    missing_before = next(l for l in before.splitlines() if l.startswith("未报送窗口"))
    missing_after = next(l for l in after.splitlines() if l.startswith("未报送窗口"))
    assert name in missing_before.split("：", 1)[1].split("、") and name not in missing_after.split("：", 1)[1].split("、")
