"""Figures per window, company and group over consolidated details (the report's 汇总, as values)."""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from xl_automation.rules.assessment import explained
from xl_automation.rules.consolidate import Detail, on_time_share, round_half_up
from xl_automation.model.ledger import Picker
from xl_automation.model.schema import BY_KEY, SERVICE_COLUMNS
from xl_automation.rules.sla import LATE, ON_TIME, OVERDUE_OPEN

RESULTS = BY_KEY["result"].enum
INSTALL_TYPES = BY_KEY["install_type"].enum
CHANNELS = BY_KEY["channel"].enum
REPLIED = (ON_TIME, LATE)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str


def figure_list() -> list[Figure]:
    """The 汇总 columns in order; labels are the report's Chinese headers."""
    out = [Figure("received", "受理总数")]
    out += [Figure(f"svc:{c.key}", c.header) for c in SERVICE_COLUMNS]
    out += [Figure(f"type:{t}", f"报装-{t}") for t in INSTALL_TYPES]
    out += [Figure(f"channel:{c}", f"渠道-{c}") for c in CHANNELS]
    out += [Figure("on_time", "2小时内联系"), Figure("on_time_rate", "按时率"),
            Figure("avg_minutes", "平均响应(分钟)"), Figure("median_minutes", "响应中位数(分钟)"),
            Figure("max_minutes", "最长响应(分钟)"), Figure("overdue", "超时")]
    out += [Figure(f"result:{r}", r) for r in RESULTS]
    out += [Figure("on_site", "上门服务")]
    out += [Figure("carried_over", CARRIED_LABEL), Figure("carried_closed", CARRIED_CLOSED_LABEL)]
    return out


CARRIED_LABEL = "结转（往期未办结）"
CARRIED_CLOSED_LABEL = "结转本期办结"
CLOSED = "已办结"


def figures(details: Iterable[Detail], refusals: tuple[str, ...] = ()) -> dict[str, Any]:
    """This period's receipts give every figure; carried-over requests (received in an earlier period and
    counted there) only their own two: how many were carried in, and how many of them closed now."""
    return tally(details, refusals).figures()


def figures_by_window(by_window: dict[str, list[Detail]], details: Iterable[Detail], companies: dict[str, list[str]],
                      refusals: tuple[str, ...] = ()) -> tuple[dict[str, dict], dict[str, dict], dict[str, Any]]:
    """Every window's, every company's (its windows in order) and the group's figures, reading each request
    once: figures(...) of a company's or the group's requests, without a pass over them per scope.

    by_window: each window's requests, in the order of details; companies: company -> its window codes."""
    tallies = {code: tally(mine, refusals) for code, mine in by_window.items()}
    empty = Tally()
    windows = {code: t.figures() for code, t in tallies.items()}
    per_company = {c: Tally.merged([tallies.get(code, empty) for code in codes]).figures()
                   for c, codes in companies.items()}
    group = Tally.merged(list(tallies.values()))
    # the average's sum in the requests' own order, as one pass over all of them adds it up
    group.minutes = [d.clock.minutes for d in details if not d.carried and d.clock.status in REPLIED]
    return windows, per_company, group.figures()


@dataclass
class Tally:
    """What figures counts over some requests, before the rates and averages; tallies of disjoint sets of
    requests merge into the tally of their union (minutes in the order merged)."""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTED, 0))
    received: int = 0
    carried: int = 0
    carried_closed: int = 0
    on_site: int = 0
    unable_with_reason: int = 0
    transferred: int = 0
    statuses: Counter = field(default_factory=Counter)
    minutes: list = field(default_factory=list)

    @classmethod
    def merged(cls, parts: list["Tally"]) -> "Tally":
        out = cls()
        for t in parts:
            for key, n in t.counts.items():
                out.counts[key] += n
            out.received += t.received
            out.carried += t.carried
            out.carried_closed += t.carried_closed
            out.on_site += t.on_site
            out.unable_with_reason += t.unable_with_reason
            out.transferred += t.transferred
            out.statuses.update(t.statuses)
            out.minutes += t.minutes
        return out

    def figures(self) -> dict[str, Any]:
        counts, statuses, minutes = self.counts, self.statuses, self.minutes
        f: dict[str, Any] = {"received": self.received}
        for c in SERVICE_COLUMNS:
            f[f"svc:{c.key}"] = counts[f"svc:{c.key}"]
        for t in INSTALL_TYPES:
            f[f"type:{t}"] = counts[f"type:{t}"]
        for ch in CHANNELS:
            f[f"channel:{ch}"] = counts[f"channel:{ch}"]
        f["on_time"] = statuses[ON_TIME]
        f["on_time_rate"] = on_time_share(statuses[ON_TIME], statuses[ON_TIME] + statuses[LATE] + statuses[OVERDUE_OPEN])
        f["avg_minutes"] = round_half_up(sum(minutes) / len(minutes), 2) if minutes else None
        f["median_minutes"] = round_half_up(statistics.median(minutes), 2) if minutes else None
        f["max_minutes"] = max(minutes) if minutes else None
        f["overdue"] = statuses[LATE] + statuses[OVERDUE_OPEN]
        for r in RESULTS:
            f[f"result:{r}"] = counts[f"result:{r}"]
        f["on_site"] = self.on_site
        f["late"] = statuses[LATE]
        f["overdue_open"] = statuses[OVERDUE_OPEN]
        f["unable_with_reason"] = self.unable_with_reason
        f["transferred"] = self.transferred
        f["carried_over"] = self.carried
        f["carried_closed"] = self.carried_closed
        return f


def tally(details: Iterable[Detail], refusals: tuple[str, ...] = ()) -> Tally:
    """One pass over the requests, reading each row's few values once (a reader row by position)."""
    counts: dict[str, int] = dict.fromkeys(_COUNTED, 0)
    received = carried = carried_closed = on_site = unable_with_reason = transferred = 0
    statuses: list[Any] = []
    minutes = []
    for d in details:
        picked = _PICK(d.values)
        result = picked[_RESULT]
        if d.carried:
            carried += 1
            carried_closed += result == CLOSED
            continue
        received += 1
        for key, value in zip(_SERVICE_COUNTS, picked):
            if value is True:
                counts[key] += 1
        for prefix, value in ((_TYPE, picked[_INSTALL]), (_CHANNEL, picked[_CHANNEL_AT]), (_RESULT_OF, result)):
            if isinstance(value, str):
                key = prefix.get(value)
                if key is not None:
                    counts[key] += 1
        on_site += picked[_ON_SITE] == "是"
        if result == "无法办理" and explained(picked[_REASON], refusals):
            unable_with_reason += 1
        if d.handled_by or result == "已转办":
            transferred += 1
        clock = d.clock
        statuses.append(clock.status)
        if clock.status in REPLIED:
            minutes.append(clock.minutes)
    return Tally(counts, received, carried, carried_closed, on_site, unable_with_reason, transferred,
                 Counter(statuses), minutes)


# the values figures reads: the service ticks first (counted where True), then the five below
_KEYS = (*(c.key for c in SERVICE_COLUMNS), "install_type", "channel", "result", "on_site", "unresolved_reason")
_INSTALL, _CHANNEL_AT, _RESULT, _ON_SITE, _REASON = range(len(SERVICE_COLUMNS), len(_KEYS))
_PICK = Picker(_KEYS)
_SERVICE_COUNTS = tuple(f"svc:{c.key}" for c in SERVICE_COLUMNS)
_TYPE = {t: f"type:{t}" for t in INSTALL_TYPES}
_CHANNEL = {ch: f"channel:{ch}" for ch in CHANNELS}
_RESULT_OF = {r: f"result:{r}" for r in RESULTS}
_COUNTED = (*_SERVICE_COUNTS, *_TYPE.values(), *_CHANNEL.values(), *_RESULT_OF.values())
