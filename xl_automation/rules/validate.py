"""Validation of ledger rows into findings, and the 2-hour clock per row."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from xl_automation.model import findings as F
from xl_automation.model.config import Config
from xl_automation.rules.consolidate import EXCLUDED_EARLIER, EXCLUDED_LATER, period_verdict
from xl_automation.model.labels import INFO_PERIOD, INFO_SHEET
from xl_automation.model.ledger import Ledger, LedgerRow, RowValues
from xl_automation.rules.masking import is_organisation
from xl_automation.rules.normalize import DateOnly, Invalid
from xl_automation.rules.periods import Period, PeriodError
from xl_automation.rules.phones import INVALID, SHORT, check_phone
from xl_automation.rules.reasons import is_placeholder, is_refusal
from xl_automation.rules.places import locate, mismatch_in, other_county_written
from xl_automation.model.text import id_key
from xl_automation.model.schema import BY_KEY, COLUMNS, DATETIME_KEYS, RESULT_REQUIRES, SERVICE_COLUMNS
from xl_automation.rules.sla import Clock, RowClock

RESULT_FINDING = {"closed_at": "closed-without-time", "unresolved_reason": "unable-without-reason",
                  "transferred_to": "transfer-without-target"}
VISIT_TYPES = ("工业", "商业")
CLOCK_WARNINGS = ("calendar-uncovered",)    # shown by flag too: they qualify every status it prints
_REQUIRED = tuple(c for c in COLUMNS if c.required and c.key != "request_id")
_ENUMS = tuple((c, frozenset(c.enum)) for c in COLUMNS if c.enum and not c.program_written)
_ID_RE = re.compile(r"^(?P<window>[A-Za-z0-9]+)-(?P<day>\d{8})-(?P<seq>\d{3,})$")


@dataclass
class Check:
    """The outcome of checking one ledger: findings, a clock per row, proposed ids."""
    ledger: Ledger
    findings: list[F.Finding]
    clocks: dict[int, RowClock] = field(default_factory=dict)
    proposals: dict[int, str] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return F.count(self.findings, F.ERROR)

    @property
    def warnings(self) -> int:
        return F.count(self.findings, F.WARNING)


def row_statuses(check: Check) -> list[dict[str, Any]]:
    """Per ledger row: its request id, minutes to contact, margin and time-limit status (None when unclocked)."""
    out = []
    for row in check.ledger.rows:
        clock = check.clocks.get(row.excel_row)
        out.append({"row": row.excel_row, "request_id": row.values.get("request_id") or None,
                    "minutes": clock.minutes if clock else None, "margin": clock.margin if clock else None,
                    "status": clock.status if clock else None})
    return out


class _Rows:
    """Finding factory bound to one ledger, so every finding names sheet, row, header and cell."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.out: list[F.Finding] = []

    def add(self, code: str, row: LedgerRow, key: str, value: Any = None, **params: Any) -> None:
        header = self.ledger.header_names.get(key, BY_KEY[key].header)
        self.out.append(F.make(code, sheet=self.ledger.sheet, row=row.excel_row, column=header,
                               cell=self.ledger.cell(row.excel_row, key), value=value, **params))


def check_ledger(ledger: Ledger, config: Config, now: datetime, window_code: str | None = None) -> Check:
    """All findings for a ledger (structure first, then rows in order) and each row's clock."""
    rows = _Rows(ledger)
    clock = Clock(config.policy, now)
    present = set(ledger.columns)
    window = window_code or ledger.info.get("窗口编码") or "WIN"
    # ~50 lookups a row: a reader row's tuple becomes a plain dict for them (C-level .get), once for every pass
    plain = [LedgerRow(row.excel_row, dict(row.values.items()), row.hidden) if type(row.values) is RowValues
             else row for row in ledger.rows]
    for row in plain:
        _check_row(rows, row, present, config, now)
    proposals = _check_ids(rows, plain, window, now) if "request_id" in present else {}
    _check_duplicates(rows, plain)
    _check_period(rows, ledger, config, plain)
    clocks = {row.excel_row: _clock(clock, row) for row in plain}
    structural = list(ledger.findings)
    if clock.calendar.uncovered_years:
        for year in sorted(clock.calendar.uncovered_years):
            structural.append(F.make("calendar-uncovered", sheet=ledger.sheet, year=year))
    ordered = sorted(rows.out, key=lambda f: (f.row or 0, _col_order(ledger, f)))
    return Check(ledger, structural + ordered, clocks, proposals)


def _check_period(rows: _Rows, ledger: Ledger, config: Config, plain: list[LedgerRow]) -> None:
    """A warning for every row the period's submission will leave out (consolidate.period_verdict
    decides, so validate and the group agree); carried-over open requests are not warned."""
    text = ledger.info.get(INFO_PERIOD, "")
    if not text:
        return
    try:
        period = Period.parse(text, config.policy["period_start_day"])
    except PeriodError:
        rows.out.append(F.make("period-invalid", sheet=INFO_SHEET, value=text))
        return
    codes = {EXCLUDED_EARLIER: "row-before-period", EXCLUDED_LATER: "row-after-period"}
    for row in plain:
        verdict = period_verdict(row, period)
        if verdict in codes:
            value = row.values["received_at"]
            received = _moment(value)
            shown = f"{received:%Y-%m-%d}" if isinstance(value, DateOnly) else _fmt(received)
            rows.add(codes[verdict], row, "received_at", shown, period=period.label,
                     request_id=row.values.get("request_id") or "（无编号）", range=period.describe(),
                     reason=verdict, next=Period.containing(received, period.start_day).label)


def _col_order(ledger: Ledger, f: F.Finding) -> int:
    n = 0
    for ch in re.sub(r"\d", "", f.cell or ""):
        n = n * 26 + ord(ch) - 64
    return n


def _clock(clock: Clock, row: LedgerRow) -> RowClock:
    return clock.row(row.values.get("received_at"), row.values.get("replied_at"))


def _check_row(rows: _Rows, row: LedgerRow, present: set[str], config: Config, now: datetime) -> None:
    v = row.values
    for col in _REQUIRED:
        if col.key in present and _blank(v.get(col.key)):
            rows.add("required-missing", row, col.key)
    for col, allowed in _ENUMS:
        value = v.get(col.key)
        if col.key in present and value and value not in allowed:
            rows.add("enum-invalid", row, col.key, value, choices="、".join(col.enum))
    _check_services(rows, row, present)
    _check_times(rows, row, present, now)
    phone = v.get("phone")
    if phone:
        verdict = check_phone(phone).verdict
        if verdict == INVALID:
            rows.add("phone-invalid", row, "phone", phone)
        elif verdict == SHORT:
            rows.add("phone-short", row, "phone", phone)
    _check_result(rows, row, present, config)
    _check_visit(rows, row, present, config)
    _check_place(rows, row, present, config)


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, Invalid) and value.raw in (None, ""))


def _check_services(rows: _Rows, row: LedgerRow, present: set[str]) -> None:
    ticked = False
    for col in SERVICE_COLUMNS:
        value = row.values.get(col.key)
        if isinstance(value, Invalid):
            rows.add("tick-invalid", row, col.key, value.raw)
        elif value:
            ticked = True
    first = next((c.key for c in SERVICE_COLUMNS if c.key in present), None)
    if first and not ticked and not any(isinstance(row.values.get(c.key), Invalid) for c in SERVICE_COLUMNS):
        rows.add("service-none", row, first)


def _check_times(rows: _Rows, row: LedgerRow, present: set[str], now: datetime) -> None:
    v = row.values
    received = _moment(v.get("received_at"))
    received_day_only = isinstance(v.get("received_at"), DateOnly)
    for key in DATETIME_KEYS:
        value = v.get(key)
        if isinstance(value, Invalid):
            reason = f"（{value.reason}）" if value.reason else ""
            rows.add("datetime-invalid", row, key, value.raw, reason=reason)
            continue
        if isinstance(value, DateOnly):
            rows.add("datetime-no-time", row, key, value.value.date())
        moment = _moment(value)
        if moment is None:
            continue
        if moment > now:
            rows.add("time-in-future", row, key, _fmt(moment), now=_fmt(now))
        elif received and key != "received_at" and _before(moment, received,
                                                           received_day_only or isinstance(value, DateOnly)):
            # a reply before its receipt is an error and has no clock status (sla.Clock.row)
            rows.add("time-before-received", row, key, _fmt(moment), received=_fmt(received))


def _before(moment: datetime, received: datetime, day_only: bool) -> bool:
    """Earlier than the receipt; compared by day when either holds a date only."""
    return moment.date() < received.date() if day_only else moment < received


def _moment(value: Any) -> datetime | None:
    if isinstance(value, DateOnly):
        return value.value
    return value if isinstance(value, datetime) else None


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _check_result(rows: _Rows, row: LedgerRow, present: set[str], config: Config) -> None:
    v = row.values
    result = v.get("result")
    needed = RESULT_REQUIRES.get(result)
    value = v.get(needed) if needed else None
    # where a reason or a target is required, 无 / — 。 say nothing: the same as blank
    if needed and needed in present and (_blank(value) or (isinstance(value, str) and is_placeholder(value))):
        rows.add(RESULT_FINDING[needed], row, needed, value or None)
    if result == "办理中" and isinstance(v.get("closed_at"), datetime):
        rows.add("closed-time-without-closed", row, "result", result)
    reason = v.get("unresolved_reason") or ""
    if is_refusal(reason, config.policy.get("refusal_phrases", ())):
        rows.add("refusal-not-allowed", row, "unresolved_reason", reason)


def _check_visit(rows: _Rows, row: LedgerRow, present: set[str], config: Config) -> None:
    v = row.values
    if "on_site" not in present or v.get("on_site") == "是":
        return
    kind, name = v.get("install_type"), v.get("applicant") or ""
    if kind in VISIT_TYPES:
        reason = f"报装类型为{kind}"
    elif is_organisation(name, config):
        reason = f"申请人“{name}”为单位"
    else:
        return
    rows.add("visit-required", row, "on_site", v.get("on_site") or "", reason=reason)


def _check_place(rows: _Rows, row: LedgerRow, present: set[str], config: Config) -> None:
    address, district = row.values.get("address") or "", row.values.get("district") or ""
    if not address:
        return
    place = locate(address, config)
    hit = mismatch_in(place, district, config) if district in config.areas else None
    other = other_county_written(place, district, config) if not hit else None
    if hit:
        rows.add("district-mismatch", row, "address", address, town=hit[0], town_district=hit[1], district=district)
    elif other:
        rows.add("district-named-mismatch", row, "address", address, named=other, district=district)
    elif not place.towns and not place.areas_named:
        rows.add("address-no-district", row, "address", address)


def _check_ids(rows: _Rows, ledger_rows: list[LedgerRow], window: str, now: datetime) -> dict[int, str]:
    seen: dict[str, int] = {}
    used: dict[tuple[str, str], set[int]] = defaultdict(set)
    for row in ledger_rows:
        m = _ID_RE.match(row.values.get("request_id") or "")
        if m:
            used[(id_key(m["window"]), m["day"])].add(int(m["seq"]))
    proposals: dict[int, str] = {}

    def propose(row: LedgerRow) -> str:
        received = _moment(row.values.get("received_at")) or now
        day = received.strftime("%Y%m%d")
        taken = used[(id_key(window), day)]     # 'zls01-…' typed holds its number as 'ZLS01-…' would
        seq = max(taken, default=0) + 1
        taken.add(seq)
        proposals[row.excel_row] = f"{window}-{day}-{seq:03d}"
        return proposals[row.excel_row]

    for row in ledger_rows:
        rid = row.values.get("request_id") or ""
        key = id_key(rid) if isinstance(rid, str) else rid      # 'w01-…' and 'W01-…' are one request
        if not rid:
            rows.add("id-missing", row, "request_id", proposal=propose(row))
        elif key in seen:
            rows.add("id-duplicate", row, "request_id", rid, other_row=seen[key], proposal=propose(row))
        else:
            seen[key] = row.excel_row
    return proposals


def _check_duplicates(rows: _Rows, ledger_rows: Iterable[LedgerRow]) -> None:
    """Same phone, a shared service and the same day: likely entered twice."""
    first: dict[tuple[str, str, str], int] = {}
    for row in ledger_rows:
        v = row.values
        received = _moment(v.get("received_at"))
        phone = check_phone(v["phone"]).digits if v.get("phone") else ""
        if not received or not phone:
            continue
        day = received.strftime("%Y%m%d")
        hits = []
        for col in SERVICE_COLUMNS:
            if v.get(col.key) is True:
                key = (phone, col.key, day)
                if key in first and first[key] != row.excel_row:
                    hits.append(first[key])
                first.setdefault(key, row.excel_row)
        if hits:
            rows.add("likely-duplicate", row, "phone", v["phone"], other_row=min(hits))


def row_as_json(values: dict[str, Any]) -> dict[str, Any]:
    """A row as the JSON the schema describes (blank cells omitted), for cross-checking with jsonschema."""
    out: dict[str, Any] = {}
    for col in COLUMNS:
        value = values.get(col.key)
        if col.program_written or _blank(value):
            continue
        if isinstance(value, DateOnly):
            value = value.value
        if isinstance(value, datetime):
            value = value.isoformat() + "+08:00"
        elif isinstance(value, Invalid):
            value = str(value.raw)
        out[col.key] = value
    return out
