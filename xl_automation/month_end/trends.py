"""Figures across periods from the archive, with pandas: read_sql → pivot, 环比 and 本年累计, and requests
from the same applicant phone in several months (重复来件)."""
from __future__ import annotations

import sqlite3
from typing import Iterable

import pandas as pd

MEASURES = {"received": "受理数", "on_time_rate": "按时率", "closure_rate": "办结率", "score": "考核得分"}
RATES = ("on_time_rate", "closure_rate")
COLUMNS = {"period": "统计周期", "scope": "范围", "code": "编码", "name": "名称", "received": "受理数",
           "late_reported": "其中补报", "carried_over": "往期结转", "dropped_open": "未续报", "handled": "经手合计",
           "on_time": "2小时内联系", "overdue": "超时", "on_time_rate": "按时率", "closed": "办结（含无法办理、已转办）",
           "closure_rate": "办结率", "score": "考核得分", "previous_received": "上期受理数",
           "received_change": "受理环比", "received_year": "本年累计受理数"}


def figures_frame(conn: sqlite3.Connection, *, before: str | None = None, upto: str | None = None,
                  last: int = 12, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """The current run's figures of the last `last` periods (before / up to a period), one row per scope."""
    sql = ("SELECT r.period, f.scope, f.code, f.name, f.received, f.late_reported, f.carried_over, f.dropped_open,"
           " f.handled, f.on_time, f.overdue, f.on_time_rate, f.closed, f.closure_rate, f.score"
           " FROM figures f JOIN runs r ON r.id = f.run_id WHERE r.current = 1")
    params: list[str] = []
    if before:
        sql += " AND r.period < ?"
        params.append(before)
    if upto:
        sql += " AND r.period <= ?"
        params.append(upto)
    frame = pd.read_sql_query(sql + " ORDER BY r.period", conn, params=params)
    keep = sorted(frame["period"].unique())[-last:] if last else sorted(frame["period"].unique())
    frame = frame[frame["period"].isin(keep)]
    if codes:
        frame = frame[frame["code"].isin(list(codes))]
    return frame.reset_index(drop=True)


def with_changes(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds 上期受理数, 受理环比 (relative change) and 本年累计受理数 per scope and code, periods in order."""
    if frame.empty:
        return frame.assign(previous_received=pd.Series(dtype=float), received_change=pd.Series(dtype=float),
                            received_year=pd.Series(dtype=float))
    out = frame.sort_values(["scope", "code", "period"]).copy()
    by_code = out.groupby(["scope", "code"], sort=False)["received"]
    out["previous_received"] = by_code.shift(1)
    prev = out["previous_received"].where(out["previous_received"] > 0)
    out["received_change"] = ((out["received"] - prev) / prev).round(4)
    out["received_year"] = out.groupby(["scope", "code", out["period"].str[:4]], sort=False)["received"].cumsum()
    return out.sort_values(["period", "scope", "code"]).reset_index(drop=True)


def pivot(frame: pd.DataFrame, measure: str, order: list[str]) -> pd.DataFrame:
    """Periods down, codes across in the given order (windows…, GROUP); missing cells stay NaN."""
    table = frame.pivot_table(index="period", columns="code", values=measure, aggfunc="first", dropna=False)
    return table.reindex(columns=[c for c in order if c in table.columns]).sort_index()


def repeat_requests(conn: sqlite3.Connection, *, min_periods: int = 2, last: int = 12) -> pd.DataFrame:
    """Phones that brought requests in at least `min_periods` different periods of the last `last` (each
    request counted in the period that received it), with how many, which periods, windows and 受理编号.
    SQLite groups (one pass over the archive, lists in period order); pandas only orders the result."""
    periods = [p for (p,) in conn.execute("SELECT DISTINCT period FROM runs WHERE current = 1 ORDER BY period")]
    since = periods[-last] if last and len(periods) >= last else (periods[0] if periods else "")
    counted = ("FROM requests q JOIN runs r ON r.id = q.run_id WHERE r.current = 1 AND q.role != 'carried'"
               " AND r.period >= ?")     # the covering index requests_phone answers this without the rows
    frame = pd.read_sql_query(
        f"WITH repeat AS (SELECT q.phone {counted} AND q.phone != '' GROUP BY q.phone"
        "  HAVING COUNT(DISTINCT r.period) >= ?)"
        " SELECT phone, COUNT(*) AS requests, COUNT(DISTINCT period) AS periods,"
        " GROUP_CONCAT(DISTINCT period) AS period_list, GROUP_CONCAT(DISTINCT window) AS windows,"
        " GROUP_CONCAT(request_id, '、') AS request_ids"
        " FROM (SELECT q.phone, q.window, q.request_id, r.period FROM repeat JOIN requests q ON q.phone = repeat.phone"
        f" JOIN runs r ON r.id = q.run_id WHERE r.current = 1 AND q.role != 'carried' AND r.period >= ?"
        " ORDER BY q.phone, r.period, q.request_id) GROUP BY phone", conn, params=[since, min_periods, since])
    for column in ("period_list", "windows"):        # period labels and window codes hold no comma
        frame[column] = frame[column].str.replace(",", "、", regex=False)
    return frame.sort_values(["periods", "requests", "phone"], ascending=[False, False, True]).reset_index(drop=True)


RUN_COLUMNS = {"period": "统计周期", "run": "汇总序号", "run_at": "汇总时间", "current": "现行结果", "window": "窗口",
               "file": "文件", "kind": "类型", "submitted_at": "报送时间", "state": "状态", "sha256": "sha256"}


def runs_frame(conn: sqlite3.Connection, *, last: int = 12) -> pd.DataFrame:
    """Every consolidation run of the last periods with the files it read: how a resubmission changed a
    period can be traced (the current run and the earlier ones it replaced)."""
    import json
    runs = pd.read_sql_query("SELECT id, period, run_at, current, inputs FROM runs ORDER BY period, id", conn)
    keep = sorted(runs["period"].unique())[-last:] if last else None
    if keep is not None:
        runs = runs[runs["period"].isin(keep)]
    rows = [{"period": r.period, "run": r.id, "run_at": r.run_at, "current": "是" if r.current else "否（已被替换）",
             "window": i.get("window"), "file": i.get("file"), "kind": i.get("kind"),
             "submitted_at": i.get("submitted_at"), "state": {"in_force": "采用", "superseded": "已被重新报送替换"}.get(
                 i.get("state"), i.get("state")), "sha256": i.get("sha256")}
            for r in runs.itertuples() for i in (json.loads(r.inputs) or [{}])]
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))
