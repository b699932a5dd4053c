"""What the history command shows: figures per window and period from the archive, as text, JSON and
exports (xlsx, CSV), and repeat requests by applicant phone across months (重复来件, masked unless asked)."""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xl_automation.month_end.archive import DEFAULT_NAME, ArchiveError, open_archive
from xl_automation.model.exits import UsageError
from xl_automation.rules.cross_month import GROUP_CODE
from xl_automation.rules.phones import mask_phone
from xl_automation.month_end.trends import COLUMNS, MEASURES, RATES, RUN_COLUMNS, figures_frame, pivot, repeat_requests, runs_frame, \
    with_changes

REPEAT_COLUMNS = {"phone": "联系电话", "requests": "件数", "periods": "涉及周期数", "period_list": "统计周期",
                  "windows": "窗口", "request_ids": "受理编号"}
FIGURE_SHEET, REPEAT_SHEET, RUN_SHEET = "各期数据", "重复来件", "汇总记录"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def archive_path(conf, place: str | Path | None = None, archive: str | Path | None = None) -> Path:
    """archive, else a .sqlite given as the place, else the archive in (or above) the given folder, else config."""
    if archive:
        return Path(archive)
    if place:
        place = Path(place)
        if place.suffix.lower() in (".sqlite", ".db", ".sqlite3"):
            return place
        for candidate in (place / DEFAULT_NAME, place.resolve().parent / DEFAULT_NAME):
            if candidate.exists():
                return candidate
        return place / DEFAULT_NAME
    configured = conf.data.get("archive", {}).get("path")
    if configured:
        return Path(configured)
    raise UsageError("请指定归档：xl-automation history 报送（存放各期报送目录的文件夹），或 --archive 归档文件.sqlite")


def csv_cell(value: Any) -> Any:
    """A CSV cell Excel opens as text, never as a formula (a leading = + - @ gets an apostrophe)."""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass
class History:
    """What the archive holds for the periods asked: figures per window and period, repeat requests, runs."""
    path: Path
    frame: Any
    repeats: Any
    runs: Any
    order: list[str]           # window codes, then the group's
    masked: bool               # repeat requests' phones masked

    def as_json(self, export: str | None = None) -> dict[str, Any]:
        return {"archive": str(self.path), "periods": sorted(self.frame["period"].unique()),
                "figures": _records(self.frame), "repeats": _records(self.repeats), "runs": _records(self.runs),
                "export": export}

    def lines(self, export: str | None = None) -> list[str]:
        """The text the history command prints."""
        out = []
        shown = self.frame[self.frame["scope"] != "company"]
        out.append(f"归档：{self.path}；统计周期 {shown['period'].min()} 至 {shown['period'].max()}")
        for measure in ("received", "on_time_rate"):
            table = pivot(shown, measure, self.order)
            if measure in RATES:
                table = table.map(lambda v: "" if v != v else f"{v:.1%}")
            else:
                table = table.map(lambda v: "" if v != v else f"{int(v)}")
            out.append(f"\n{MEASURES[measure]}（行：统计周期；列：窗口编码，{GROUP_CODE} 为全集团）")
            out.append(table.to_string())
        reruns = self.runs.groupby("period")["run"].nunique()
        again = [f"{p}（{n} 次）" for p, n in reruns.items() if n > 1]
        if again:
            out.append(f"\n重新汇总过的统计周期：{'、'.join(again)}（每次读入的文件见导出的“{RUN_SHEET}”表）")
        out.append(f"\n重复来件（同一联系电话在 2 个及以上统计周期来件）：{len(self.repeats)} 个号码"
                   + ("（已脱敏，--show-personal-info 显示完整号码）" if self.masked else ""))
        for row in self.repeats.head(20).itertuples(index=False):
            out.append(f"  {row.phone}：{row.requests} 件，{row.period_list}，{row.windows}")
        if export:
            out.append(f"\n已导出：{export}")
        return out


def load_history(conf, path: Path, *, upto: str | None = None, last: int = 12, codes: list[str] | None = None,
                 show_personal_info: bool = False) -> History:
    """The archive's figures for the last periods (up to upto), repeat requests and runs; ArchiveError when
    no period was consolidated yet."""
    archive = open_archive(path, create=False)
    try:
        frame = with_changes(figures_frame(archive.conn, upto=upto, last=last, codes=codes or None))
        repeats = repeat_requests(archive.conn, min_periods=2, last=last)
        runs = runs_frame(archive.conn, last=last)
    finally:
        archive.close()
    show = show_personal_info or not conf.policy["mask_personal_info"]
    if not show:
        repeats["phone"] = repeats["phone"].map(mask_phone)
    if frame.empty:
        raise ArchiveError(f"归档数据库 {path} 中还没有汇总过的统计周期：请先运行 consolidate")
    return History(path, frame, repeats, runs, [w.code for w in conf.windows] + [GROUP_CODE], not show)


def _records(frame) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


def export(path: Path, frame, repeats, runs, order: list[str]) -> None:
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        _csv(path, frame.rename(columns=COLUMNS))
        _csv(path.with_name(f"{path.stem}-{REPEAT_SHEET}.csv"), repeats.rename(columns=REPEAT_COLUMNS))
        _csv(path.with_name(f"{path.stem}-{RUN_SHEET}.csv"), runs.rename(columns=RUN_COLUMNS))
    elif suffix == ".xlsx":
        _xlsx(path, frame, repeats, runs, order)
    else:
        raise UsageError(f"导出文件 {path.name} 应以 .xlsx 或 .csv 结尾")


def _csv(path: Path, frame) -> None:
    tmp = path.with_name(f".~{path.name}.part")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as f:       # utf-8-sig: Excel reads the Chinese
        out = csv.writer(f)
        out.writerow([csv_cell(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            out.writerow([csv_cell(v) for v in row])
    tmp.replace(path)


def _xlsx(path: Path, frame, repeats, runs, order: list[str]) -> None:
    from xl_automation.xlsx.xlsx_safe import new_workbook, write_text
    tmp = path.with_name(f".~{path.stem}.part.xlsx")
    wb = new_workbook(tmp)
    pct = wb.add_format({"num_format": "0.0%"})
    header = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})

    def sheet(name: str, table, rates=(), widths=12):
        ws = wb.add_worksheet(name)
        ws.set_column(0, len(table.columns), widths)
        for c, label in enumerate(table.columns):
            ws.write_string(0, c, str(label), header)
        for r, row in enumerate(table.itertuples(index=False), start=1):
            for c, v in enumerate(row):
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    continue
                if isinstance(v, str):
                    write_text(ws, r, c, v)
                else:
                    ws.write_number(r, c, float(v), pct if table.columns[c] in rates else None)
        ws.freeze_panes(1, 0)
    try:
        sheet(FIGURE_SHEET, frame.rename(columns=COLUMNS), rates={COLUMNS[k] for k in RATES + ("received_change",)})
        for measure, title in MEASURES.items():
            sheet(title, pivot(frame[frame["scope"] != "company"], measure, order).reset_index().rename(
                columns={"period": COLUMNS["period"]}), rates=set(order) if measure in RATES else ())
        sheet(REPEAT_SHEET, repeats.rename(columns=REPEAT_COLUMNS), widths=18)
        sheet(RUN_SHEET, runs.rename(columns=RUN_COLUMNS), widths=16)
        wb.close()
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
