"""Row rules: each finding code, its cell and its Chinese message, on in-memory ledgers."""
from datetime import datetime, timedelta

import jsonschema
import pytest
from hypothesis import given, settings, strategies as st

from xl_automation.model import config as cfg
from xl_automation.rules.assessment import explained
from xl_automation.rules.consolidate import period_verdict
from xl_automation.rules.reasons import is_placeholder, is_refusal
from xl_automation.rules.normalize import DateOnly, Invalid
from xl_automation.rules.periods import Period
from xl_automation.model.schema import SCHEMA
from xl_automation.rules.validate import check_ledger, row_as_json

from support.rows import good_row, ledger_of

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


def test_an_id_typed_again_in_other_case_is_a_duplicate():
    codes = flat(good_row(request_id="ZLS01-20261103-001"), good_row(request_id=" zls01-20261103-001", phone="13900000001"))
    assert (5, "A5", "id-duplicate") in codes
    # the number proposed for a row without one is not the one typed in lower case
    check = check_ledger(ledger_of(good_row(request_id="zls01-20261103-001"), good_row(request_id="", phone="13900000001")),
                         CONFIG, NOW)
    assert check.proposals == {5: "ZLS01-20261103-002"}


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


def _in_period(*rows, period="2026-11", now=datetime(2027, 3, 1)):
    ledger = ledger_of(*rows)
    ledger.info["统计周期"] = period
    return check_ledger(ledger, CONFIG, now)


def test_every_row_outside_the_period_is_warned_with_row_id_and_why():
    closed_before = good_row(request_id="A-1", received_at=datetime(2026, 10, 20, 9), posted_at=None,
                             replied_at=datetime(2026, 10, 20, 10), closed_at=datetime(2026, 10, 22, 9))
    still_open = good_row(request_id="A-2", received_at=datetime(2026, 10, 24, 23, 59), posted_at=None,
                          replied_at=None, result="办理中", closed_at=None)
    closed_inside = good_row(request_id="A-3", received_at=datetime(2026, 10, 20, 9), posted_at=None,
                             replied_at=datetime(2026, 10, 20, 10), closed_at=datetime(2026, 10, 25, 0, 0))
    at_end = good_row(request_id="A-4", received_at=datetime(2026, 11, 25, 0, 0), posted_at=None,
                      replied_at=datetime(2026, 11, 25, 1), closed_at=datetime(2026, 11, 26))
    months_later = good_row(request_id="A-5", received_at=datetime(2027, 1, 3, 9), posted_at=None,
                            replied_at=datetime(2027, 1, 3, 10), closed_at=datetime(2027, 1, 4))
    check = _in_period(good_row(), closed_before, still_open, closed_inside, at_end, months_later)
    found = [(f.row, f.cell, f.code) for f in check.findings if f.code.startswith("row-")]
    assert found == [(5, "B5", "row-before-period"), (8, "B8", "row-after-period"), (9, "B9", "row-after-period")]
    before, after, later = [f for f in check.findings if f.code.startswith("row-")]
    assert "A-1" in before.message and "2026-10-20 09:00" in before.message and "2026-10-25 至 2026-11-24" in before.message
    assert all(f.severity == "warning" for f in (before, after, later))
    assert "2026-12" in after.hint and "A-4" in after.message and "晚于" in after.message
    assert "2027-01" in later.message and "2027-01" in later.hint
    assert check.errors == 0


def test_a_period_that_cannot_be_read_is_said_once():
    check = _in_period(good_row(), period="十一月")
    assert [(f.code, f.sheet, f.value) for f in check.findings] == [("period-invalid", "台账信息", "十一月")]


@given(st.lists(st.tuples(st.datetimes(datetime(2026, 9, 1), datetime(2027, 1, 31)),
                          st.sampled_from(["办理中", "已办结", "无法办理", "已转办"]),
                          st.integers(0, 60 * 24 * 40)), min_size=1, max_size=12),
       st.integers(1, 28))
@settings(max_examples=150, deadline=None)
def test_validate_warns_exactly_the_rows_a_submission_leaves_out(specs, start_day):
    """For every ledger and every period start day, the rows warned as outside the period are exactly
    those consolidate.period_verdict leaves out of the submission."""
    rows = [good_row(request_id=f"R-{i}", received_at=received, posted_at=None, replied_at=None, result=result,
                     closed_at=received + timedelta(minutes=after) if result == "已办结" else None,
                     unresolved_reason="客户取消" if result == "无法办理" else "",
                     transferred_to="张店分公司" if result == "已转办" else "")
            for i, (received, result, after) in enumerate(specs)]
    conf = cfg.load()
    conf.data["policy"]["period_start_day"] = start_day
    ledger = ledger_of(*rows)
    ledger.info["统计周期"] = "2026-11"
    check = check_ledger(ledger, conf, datetime(2027, 6, 1))
    period = Period.parse("2026-11", start_day)
    warned = {f.row for f in check.findings if f.code in ("row-before-period", "row-after-period")}
    assert warned == {r.excel_row for r in ledger.rows if period_verdict(r, period) not in (None, "carried")}


REFUSALS = ["不属于本单位业务", "不属我司业务", "非我司业务", "非本辖区", "不归我们管", "不归自来水公司管理",
            "不在我们的受理范围内", "不在业务范围", "请用户自行到燃气公司办理", "让客户自己去电力营业厅办理",
            "建议其自行联系燃气公司", "我司不受理", "不是我们的业务", "超出服务范围", "请到华润燃气营业厅办理",
            "不属于供水业务", "非本单位", "不 属 于 本 单 位", "不属于本单位业务。"]
REASONS = ["客户取消申请", "资料不全，待补充", "现场不具备安装条件", "管网改造中，预计下月通水", "等待联合踏勘",
           "客户联系不上", "用户要求暂缓", "已转燃气公司，由其上门", "产权不清，需业主委员会确认", "见备注",
           "用户房屋不属于合法建筑，待核实"]
PLACEHOLDERS = ["无", "/", "—", "-", "暂无", "。", "N/A", "…", "无。", "——", "  /  ", "\\", "没有", "略"]


@pytest.mark.parametrize("reason", REFUSALS)
def test_refusals_recognised_by_pattern(reason):
    row = good_row(result="无法办理", closed_at=None, unresolved_reason=reason)
    assert (4, "W4", "refusal-not-allowed") in flat(row)
    assert not explained(reason, ())


@pytest.mark.parametrize("reason", REASONS)
def test_real_reasons_are_not_refusals(reason):
    assert flat(good_row(result="无法办理", closed_at=None, unresolved_reason=reason)) == []
    assert explained(reason, ())


@pytest.mark.parametrize("text", PLACEHOLDERS)
def test_a_placeholder_is_no_reason_and_no_target(text):
    assert (4, "W4", "unable-without-reason") in flat(good_row(result="无法办理", closed_at=None, unresolved_reason=text))
    assert (4, "X4", "transfer-without-target") in flat(good_row(result="已转办", closed_at=None, transferred_to=text))
    assert not explained(text, ())


@given(st.sampled_from(["请", "让", "建议", "告知"]), st.sampled_from(["", "其", "客户", "用户", "申请人"]),
       st.sampled_from(["到", "去", "自行到", "自行前往", "自己去"]),
       st.sampled_from(["燃气公司", "华润燃气营业厅", "供电公司", "联通公司", "有线电视网络公司"]),
       st.sampled_from(["办理", "咨询", "申请"]), st.sampled_from(["", "。", "！", "，谢谢"]))
def test_sending_the_applicant_elsewhere_is_always_a_refusal(ask, who, go, where, act, tail):
    assert is_refusal(f"{ask}{who}{go}{where}{act}{tail}")


@given(st.text(st.characters(categories=["P", "S", "Zs"]), max_size=8), st.sampled_from(["", "无", "暂无", "没有"]))
def test_punctuation_around_a_stand_in_word_is_always_a_placeholder(noise, word):
    assert is_placeholder(noise[:len(noise) // 2] + word + noise[len(noise) // 2:])


COUNTIES = ("张店区", "淄川区", "博山区", "临淄区", "周村区", "桓台县", "高青县", "沂源县")
ZONES = ("高新区", "经济开发区", "文昌湖区")
filler = st.text(st.sampled_from("幸福小区路号楼单元东西南北中心花园3 7-"), max_size=10)


@given(st.sampled_from(COUNTIES), st.sampled_from(COUNTIES), filler, filler)
@settings(max_examples=200)
def test_an_address_naming_another_county_is_a_warning(written, filed, before, after):
    found = flat(good_row(district=filed, address=f"{before}{written}{after}"))
    expected = [(4, "N4", "district-named-mismatch")] if written != filed else []
    assert found == expected


@pytest.mark.parametrize("address, filed", [
    ("张店路18号", "桓台县"),                         # a short form names streets too
    ("淄博市临淄区人民路1号（张店区客户）", "张店区"),   # the filed district is named as well
    ("张店区柳泉路111号", "高新区"),                   # functional zones lie inside counties
    ("高新区柳泉路111号", "张店区"),
    ("文昌湖区商家镇", "周村区"),
])
def test_short_forms_zones_and_addresses_naming_the_filed_area_are_not_mismatches(address, filed):
    assert "district-named-mismatch" not in [c for _, _, c in flat(good_row(district=filed, address=address))]


def test_a_named_mismatch_says_both_areas():
    check = check_ledger(ledger_of(good_row(district="张店区", address="桓台县城区金城小区5号楼")), CONFIG, NOW)
    (f,) = check.findings
    assert (f.code, f.severity) == ("district-named-mismatch", "warning")
    assert "桓台县" in f.message and "张店区" in f.message


def test_a_date_only_receipt_outside_the_period_is_warned_by_its_date():
    row = good_row(request_id="D-1", received_at=DateOnly(datetime(2026, 11, 26)), posted_at=None,
                   replied_at=None, result="办理中", closed_at=None)
    check = _in_period(row)
    [f] = [f for f in check.findings if f.code == "row-after-period"]
    assert "2026-11-26" in f.message and "2026-12" in f.hint
    assert "datetime-no-time" in [f.code for f in check.findings]
