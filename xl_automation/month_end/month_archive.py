"""A period's consolidation with the archive: read what is known, apply the cross-month rules, write the
report and record the period, all inside one archive transaction (the report is replaced only after the
record is ready; a failure anywhere leaves both as they were)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from xl_automation import __version__
from xl_automation.model.config import Config
from xl_automation.rules.consolidate import Consolidation, Detail, round_half_up
from xl_automation.rules.cross_month import apply, is_open, request_key, role
from xl_automation.rules.periods import Period
from xl_automation.rules.phones import check_phone
from xl_automation.rules.cross_month import GROUP_CODE

NO_ARCHIVE_NOTE = "未使用归档：按本期报送数据单独汇总（往期已报、补报、未续报无法识别）"
FIRST_RUN_NOTE = "归档中还没有更早的统计周期：本期按本期报送数据汇总，从本期起跨月核对"


@dataclass
class ArchiveInfo:
    path: Path | None
    used: bool                     # the cross-month rules were applied
    note: str
    notes: list[str] = field(default_factory=list)
    run_id: int | None = None
    runs_of_period: int = 0        # this run included
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)   # code → the previous period's figures
    history: Any = None                                                 # pandas frame: earlier periods' figures
    year_to_date: dict[str, int] = field(default_factory=dict)          # code → received in this year before
    cache: dict[str, int] = field(default_factory=dict)                 # submission copies from cache / read

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path) if self.path else None, "used": self.used, "note": self.note,
                "notes": self.notes, "run": self.run_id, "runs_of_period": self.runs_of_period, **self.cache}


def open_for(folder: Path, conf: Config, option: str | None = None, no_archive: bool = False):
    """The archive asked for (--archive, else the configuration, else beside the period folders), or None."""
    from xl_automation.month_end.archive import open_archive, resolve_path
    if no_archive:
        return None
    setting = conf.data.get("archive", {})
    path = resolve_path(folder, option, setting.get("path"))
    return open_archive(path, busy_seconds=float(setting.get("busy_timeout_seconds", 120)))


def consolidate_period(collected, period: Period, conf: Config, now: datetime, archive,
                       write: Callable[[Consolidation, ArchiveInfo], Any], rows_cache=None):
    """Consolidate collected sources; `write(cons, info)` writes the report and returns ReportInfo."""
    if archive is None:
        cons = consolidate_known(collected, period, conf, now, None)
        info = ArchiveInfo(None, False, NO_ARCHIVE_NOTE)
        return cons, info, write(cons, info)
    with archive.transaction():
        periods = archive.periods()
        earlier = [p for p in periods if p < period.label]
        later = [p for p in periods if p > period.label]
        cons = consolidate_known(collected, period, conf, now, archive, earlier)
        info = ArchiveInfo(archive.path, bool(earlier), "" if earlier else FIRST_RUN_NOTE, list(archive.notes))
        if later:
            info.notes.append(f"归档中已有更晚的统计周期 {'、'.join(later)}：它们的跨月核对用的是本期此前的结果；"
                              f"如需一致，请在本期之后按顺序重新汇总这些周期")
        if earlier:
            info.note = f"已按归档跨月核对（归档中最近的更早周期：{earlier[-1]}）"
            info.previous = archive.figures_of(earlier[-1])
            info.year_to_date = archive.received_in_year(period.label)
        if archive.periods():
            from xl_automation.month_end.trends import figures_frame
            info.history = figures_frame(archive.conn, before=period.label, last=11)
        report = write(cons, info)
        info.run_id = record(archive, cons, collected, report, conf, now)
        if rows_cache is not None:
            rows_cache.flush(now)
            info.cache = {"files_from_cache": rows_cache.hits, "files_read": rows_cache.misses}
        info.runs_of_period = archive.run_count(period.label)
    return cons, info, report


def consolidate_known(collected, period: Period, conf: Config, now: datetime, archive,
                      earlier: list[str] | None = None) -> Consolidation:
    """The period as the archive knows it, nothing recorded: the period's own sources and the late files of
    earlier periods, with the cross-month rules (补报, 结转, 未续报, late transfers) when the archive holds an
    earlier period; else the period alone, a late file set aside with what to do. consolidate_period and the
    notice both count this way, so the liaison group hears of the same requests as the report."""
    from xl_automation.rules.consolidate import consolidate
    from xl_automation.rules.resubmission import missing_rows
    from xl_automation.rules.sla import Clock
    if earlier is None:
        earlier = [p for p in archive.periods() if p < period.label] if archive is not None else []
    if not earlier:
        set_aside_earlier(collected, period)
    sources = in_use(collected)
    cons = consolidate(sources, period, conf, now)
    if earlier:
        apply(cons, sources, archive.known_before(period.label, source_keys(sources)),
              archive.values_of, Clock(conf.policy, now), {w.code: (w.code, w.name) for w in conf.windows})
    # a resubmission's dropped rows are listed, never counted: superseded copies were read with the rest. A
    # replaced late file of an earlier period is compared only while that period's late file is in use
    cons.resubmission_missing = missing_rows(
        list(collected.superseded) + list(getattr(collected, "superseded_earlier", ())), sources)
    return cons


def in_use(collected) -> list:
    """The period's own sources, then the late submissions of earlier periods found in its folder."""
    return list(collected.sources) + list(getattr(collected, "earlier", ()))


def set_aside_earlier(collected, period: Period) -> None:
    """Without earlier periods in an archive nothing tells a late file's new requests from known ones: it
    is listed among the skipped files with what to do, never silently dropped."""
    from xl_automation.month_end.collect import earlier_period_reason
    for src in getattr(collected, "earlier", ()):
        collected.skipped.append({"file": src.path.name, "reason": earlier_period_reason(src, period)})
    if getattr(collected, "earlier", None):
        collected.earlier = []


def source_keys(sources) -> set[str]:
    return {request_key(r.values) for s in sources for r in s.rows}


def record(archive, cons: Consolidation, collected, report, conf: Config, now: datetime) -> int:
    from xl_automation.month_end.archive import dump_values
    label = cons.period.label
    inputs = [{"window": s.window, "file": s.path.name, "sha256": s.sha256, "kind": s.kind,
               "submitted_at": s.submitted_at.isoformat(sep=" ") if s.submitted_at else None,
               "state": state, **({"period": s.for_period} if s.for_period else {})}
              for s, state in [(s, "in_force") for s in collected.sources]
              + [(s, "earlier_period") for s in getattr(collected, "earlier", ())]
              + [(s, "superseded") for s in collected.superseded]]
    previous = archive.current_run(label)
    same = archive.raw_values_of(previous) if previous is not None else {}    # a re-run: rows already encoded
    run_id = archive.begin_run(label, now, inputs, __version__)
    known = archive.known_before(label, source_keys(in_use(collected))) if cons.archive_used else {}

    def first_period(d: Detail) -> str:
        if role(d) != "carried":
            return label
        k = known.get((d.window, request_key(d.values)))
        received = d.values.get("received_at")
        return k.first_period if k else Period.containing(received, cons.period.start_day).label \
            if isinstance(received, datetime) else label

    def row(d: Detail) -> tuple:
        """The request's record; an unmerged row of a file the period's previous run recorded the same way
        refers to that record for what follows from the values alone (not encoded again)."""
        merged = int(bool(d.merged_rows) or bool(d.from_archive))
        ref = None if merged else same.get((d.sha256, d.source_row))
        if ref is not None:
            return (d.window, None, None, role(d), first_period(d), None, None, None, None, ref, d.file, d.sha256,
                    d.source_row, 0)
        return (d.window, request_key(d.values), d.values.get("request_id") or "", role(d), first_period(d),
                int(is_open(d.values)), _iso(d.values.get("received_at")), _digits(d.values.get("phone")),
                dump_values(d.values), None, d.file, d.sha256, d.source_row, merged)

    archive.add_requests(run_id, (row(d) for d in cons.details))
    archive.add_dropped(run_id, ((x.window, x.key, x.request_id, x.last_period) for x in cons.dropped_open))
    archive.add_figures(run_id, figure_rows(cons, report.figures, report.scores, conf))
    return run_id


def _iso(v: Any) -> str | None:
    return v.isoformat(sep=" ") if isinstance(v, datetime) else None


def received_text(values) -> str | None:
    """The receipt as the JSON gives it: date and time, or the date alone when written without a time."""
    from xl_automation.rules.normalize import DateOnly
    v = values.get("received_at")
    return v.value.date().isoformat() if isinstance(v, DateOnly) else _iso(v)


def _period(values, start_day: int) -> str | None:
    """The period a request was received in (a date without a time: that date's, as the period rules count)."""
    from xl_automation.rules.consolidate import moment
    received = moment(values.get("received_at"))
    return Period.containing(received, start_day).label if received is not None else None


def _digits(phone: Any) -> str:
    if not isinstance(phone, str) or not phone:
        return ""
    return check_phone(phone).digits or phone


def scope_counts(f: dict[str, Any], late: int, dropped: int) -> dict[str, Any]:
    """A window's, company's or the group's headline figures from the report's own (stats.figures: this
    period's receipts, carried-over requests apart), closure as the 通报 counts it (receipts with an outcome)."""
    from xl_automation.rules.bulletin_figures import outcomes, rate
    closed = outcomes(f)
    carried = f.get("carried_over", 0)
    return {"received": f["received"], "late_reported": late, "carried_over": carried, "dropped_open": dropped,
            "handled": f["received"] + carried, "on_time": f["on_time"], "overdue": f["overdue"],
            "on_time_rate": f["on_time_rate"], "closed": closed, "closure_rate": rate(closed, f["received"])}


def figure_rows(cons: Consolidation, figs: dict[str, Any], scores: dict[str, Any], conf: Config) -> list[dict[str, Any]]:
    """What the archive keeps of a period and the report's archive pages show: per window, company, group.
    figs: ReportInfo.figures; scores: ReportInfo.scores (考核); a company's or the group's score is the mean
    of its windows' (a window that did not submit scores 0)."""
    late = Counter(d.window for d in cons.details if d.late_reported)
    dropped = Counter(x.window for x in cons.dropped_open)
    window_score = {code: s.total for code, s in scores.items()}

    def mean_score(codes: list[str]) -> float | None:
        values = [window_score[c] for c in codes if c in window_score]
        return round_half_up(sum(values) / len(values), 2) if values else None
    rows = [dict(scope_counts(figs["windows"][w.code], late[w.code], dropped[w.code]), scope="window", code=w.code,
                 name=w.name, score=window_score.get(w.code)) for w in conf.windows]
    for c in conf.data["companies"]:
        codes = [w.code for w in conf.windows if w.company == c["code"]]
        rows.append(dict(scope_counts(figs["companies"][c["code"]], sum(late[k] for k in codes),
                                      sum(dropped[k] for k in codes)),
                         scope="company", code=c["code"], name=c["name"], score=mean_score(codes)))
    rows.append(dict(scope_counts(figs["group"], sum(late.values()), len(cons.dropped_open)), scope="group",
                     code=GROUP_CODE, name=conf.data.get("group", {}).get("name", ""),
                     score=mean_score([w.code for w in conf.windows])))
    return rows


def bulletin_inputs(cons: Consolidation, info: ArchiveInfo):
    """(previous, history, unrenewed) for the 通报, from what the archive holds of earlier periods."""
    from xl_automation.rules.report_info import Unrenewed
    from xl_automation.rules.bulletin_figures import PeriodFigures
    history = []
    if info.history is not None and not info.history.empty:
        group = info.history[info.history["scope"] == "group"].sort_values("period")
        history = [PeriodFigures(r.period, int(r.received), _number(r.on_time_rate), _number(r.closure_rate),
                                 int(r.overdue)) for r in group.itertuples()]
    previous = history[-1] if history and info.used else None
    unrenewed = [Unrenewed(x.window, x.request_id, f"最后报送 {x.last_period}") for x in cons.dropped_open]
    return previous, history if info.used else [], unrenewed


def _number(v: Any) -> float | None:
    return None if v is None or v != v else float(v)       # NaN from pandas: unknown


def add_cross_month(data: dict[str, Any], cons: Consolidation, info: ArchiveInfo) -> None:
    """consolidate --json's additions: per window 补报 and 未续报 counts in data["windows"], the lists, the archive."""
    late = [d for d in cons.details if d.late_reported]
    for entry in data.get("windows", []):
        entry["late_reported"] = sum(1 for d in late if d.window == entry["code"])
        entry["dropped_open"] = sum(1 for x in cons.dropped_open if x.window == entry["code"])
    data["archive"] = info.as_json()
    data["late_reported"] = [
        {"window": d.window, "request_id": d.values.get("request_id") or "", "received_at": received_text(d.values),
         "period": _period(d.values, cons.period.start_day)}
        for d in sorted(late, key=lambda d: (d.window, request_key(d.values)))]
    data["dropped_open"] = [{"window": x.window, "request_id": x.request_id, "last_period": x.last_period}
                            for x in cons.dropped_open]
    data["rows_from_archive"] = cons.from_archive
