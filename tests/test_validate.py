"""Row rules: each finding code, its cell and its Chinese message, on in-memory ledgers."""
from datetime import datetime

import jsonschema
import pytest

from xl_automation import config as cfg
from xl_automation.normalize import DateOnly, Invalid
from xl_automation.schema import SCHEMA
from xl_automation.validate import check_ledger, row_as_json

from rows import good_row, ledger_of

NOW = datetime(2026, 11, 20, 12, 0)
CONFIG = cfg.load()


def flat(*rows, now=NOW, **kw):
    check = check_ledger(ledger_of(*rows, **kw), CONFIG, now)
    return [(f.row, f.cell, f.code) for f in check.findings]


def test_a_good_row_has_no_findings():
    assert flat(good_row()) == []


@pytest.mark.parametrize("changes, expected", [
    ({"channel": ""}, (4, "C4", "required-missing")),
    ({"channel": "微信"}, (4, "C4", "enum-invalid")),
    ({"svc_water": False}, (4, "D4", "service-none")),
    ({"svc_gas": Invalid("有")}, (4, "F4", "tick-invalid")),
    ({"phone": "12345678901"}, (4, "L4", "phone-invalid")),
    ({"phone": "95598"}, (4, "L4", "phone-short")),
    ({"replied_at": Invalid("明天")}, (4, "S4", "datetime-invalid")),
    ({"replied_at": datetime(2026, 11, 3, 9, 0)}, (4, "S4", "time-before-received")),
    ({"closed_at": datetime(2026, 11, 21, 9, 0)}, (4, "V4", "time-in-future")),
    ({"closed_at": None}, (4, "V4", "closed-without-time")),
    ({"result": "无法办理", "closed_at": None}, (4, "W4", "unable-without-reason")),
    ({"result": "已转办", "closed_at": None}, (4, "X4", "transfer-without-target")),
    ({"result": "无法办理", "closed_at": None, "unresolved_reason": "不属于本单位业务"}, (4, "W4", "refusal-not-allowed")),
    ({"install_type": "工业"}, (4, "T4", "visit-required")),
    ({"applicant": "淄博鑫源化工有限公司"}, (4, "T4", "visit-required")),
    ({"address": "张店区南麻街道人民路1号"}, (4, "N4", "district-mismatch")),
    ({"address": "幸福小区3号楼2单元"}, (4, "N4", "address-no-district")),
    ({"received_at": DateOnly(datetime(2026, 11, 3))}, (4, "B4", "datetime-no-time")),
    ({"request_id": ""}, (4, "A4", "id-missing")),
])
def test_each_rule_names_its_cell(changes, expected):
    assert expected in flat(good_row(**changes))


def test_district_mismatch_message_names_both_places():
    check = check_ledger(ledger_of(good_row(address="张店区南麻街道人民路1号")), CONFIG, NOW)
    (f,) = check.findings
    assert "南麻街道" in f.message and "沂源县" in f.message and "张店区" in f.message
    assert f.severity == "warning" and f.hint


def test_exactly_120_minutes_is_on_time_and_121_is_late():
    on = check_ledger(ledger_of(good_row(replied_at=datetime(2026, 11, 3, 11, 5))), CONFIG, NOW)
    late = check_ledger(ledger_of(good_row(replied_at=datetime(2026, 11, 3, 11, 6))), CONFIG, NOW)
    assert (on.clocks[4].minutes, on.clocks[4].status) == (120.0, "按时")
    assert (late.clocks[4].minutes, late.clocks[4].margin, late.clocks[4].status) == (121.0, -1.0, "超时")


@pytest.mark.parametrize("minutes_open, status", [(30, "待回复"), (91, "临近超时"), (120, "临近超时"), (121, "超时未回复")])
def test_open_rows_status_depends_on_now(minutes_open, status):
    received = datetime(2026, 11, 20, 8, 0)
    now = datetime(2026, 11, 20, 8, 0).replace(hour=8 + minutes_open // 60, minute=minutes_open % 60)
    row = good_row(received_at=received, posted_at=None, replied_at=None, result="办理中", closed_at=None)
    assert check_ledger(ledger_of(row), CONFIG, now).clocks[4].status == status


def test_missing_ids_get_distinct_proposals_after_existing_ones():
    rows = [good_row(), good_row(request_id="", phone="13900000001"), good_row(request_id="", phone="13900000002")]
    check = check_ledger(ledger_of(*rows), CONFIG, NOW)
    assert check.proposals == {5: "ZLS01-20261103-002", 6: "ZLS01-20261103-003"}
    assert "ZLS01-20261103-002" in check.findings[0].hint


def test_duplicate_ids_and_likely_duplicates():
    rows = [good_row(), good_row(), good_row(request_id="ZLS01-20261103-009", svc_power=True)]
    codes = flat(*rows)
    assert (5, "A5", "id-duplicate") in codes
    assert (5, "L5", "likely-duplicate") in codes and (6, "L6", "likely-duplicate") in codes


def test_missing_column_gives_no_per_row_findings_for_it():
    assert flat(good_row(channel=""), missing=("channel",)) == []


def test_hot_path_agrees_with_jsonschema():
    """The row rules derived from the schema give the same verdicts as jsonschema itself."""
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    cases = [good_row(), good_row(channel="微信"), good_row(svc_water=False), good_row(closed_at=None),
             good_row(result="无法办理", closed_at=None), good_row(result="已转办"), good_row(applicant="")]
    for values in cases:
        schema_ok = not list(validator.iter_errors(row_as_json(values)))
        errors = [f for f in check_ledger(ledger_of(values), CONFIG, NOW).findings if f.severity == "error"]
        assert schema_ok == (not errors), (values, errors)
