"""Ledger workbooks built in code for tests: realistic rows, any layout, two writer engines."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Sequence

from xl_automation.model import labels
from xl_automation.rules.normalize import header_key
from xl_automation.model.schema import BY_KEY, HEADERS, SERVICE_COLUMNS, header_lookup

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
BASE_TIME = datetime(2026, 11, 3, 8, 30)
SERVICE_GROUP = "办事需求"
DEFAULT_INFO = {labels.INFO_WINDOW_CODE: "ZLS01", labels.INFO_WINDOW_NAME: "营销服务中心",
                labels.INFO_COMPANY: "淄博市自来水有限责任公司", labels.INFO_PERIOD: "2026-11"}


@dataclass(frozen=True)
class Formatted:
    """A date or date-time cell written with its own number format (e.g. a date-only "yyyy-mm-dd")."""
    value: Any
    num_format: str


@dataclass(frozen=True)
class FormulaResult:
    """A formula with the result Excel saved for it (XlsxWriter only), e.g. ("=1/0", "#DIV/0!"): an error
    value is written as Excel writes it (t="e")."""
    formula: str
    cached: Any


def sample_row(i: int, *, start: datetime = BASE_TIME) -> dict[str, Any]:
    """A plausible, valid ledger row number i (0-based), keyed by schema key."""
    received = start + timedelta(minutes=37 * i)
    services = [c.key for c in SERVICE_COLUMNS]
    result = BY_KEY["result"].enum[i % 2]          # 办理中 / 已办结
    row = {
        "request_id": f"ZLS01-{received:%Y%m%d}-{i + 1:03d}",
        "received_at": received,
        "channel": BY_KEY["channel"].enum[i % 4],
        services[i % 6]: labels.TICK,
        "install_type": BY_KEY["install_type"].enum[i % 4],
        "applicant": f"张{'伟芳娜敏静丽强磊'[i % 8]}{i}",
        "phone": f"138{i:08d}",
        "district": BY_KEY["district"].enum[i % 8],
        "address": f"张店区马尚街道人民西路{i % 300 + 1}号",
        "enterprise": "淄博市自来水有限责任公司",
        "first_responder": "李娜",
        "posted_at": received + timedelta(minutes=10),
        "replied_at": received + timedelta(minutes=30 + i % 100),
        "on_site": "否",
        "result": result,
    }
    if result == "已办结":
        row["closed_at"] = received + timedelta(days=1)
    return row


def sample_rows(n: int, *, start: datetime = BASE_TIME) -> list[dict[str, Any]]:
    return [sample_row(i, start=start) for i in range(n)]


@dataclass
class Layout:
    """Cells, merges and hidden rows of a workbook, independent of the writer engine."""
    sheets: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict)   # (row, col) 1-based
    merges: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    hidden: dict[str, set[int]] = field(default_factory=dict)


def ledger_layout(rows: Sequence[dict[str, Any]], *, title_rows: int = 2,
                  headers: Sequence[str] | None = None, sheet: str = labels.LEDGER_SHEET,
                  info: dict[str, str] | None = DEFAULT_INFO, two_level: bool = False,
                  hidden_rows: Sequence[int] = (),
                  extra_sheets: dict[str, list[list[Any]]] | None = None) -> Layout:
    """Place a ledger: title rows, a header row (or two), then one row per dict (keys are schema keys).

    headers: header texts in column order (aliases allowed, unknown texts give empty columns);
    hidden_rows: 0-based indexes into rows to hide. An empty dict in rows makes an empty Excel row.
    """
    headers = list(headers if headers is not None else HEADERS)
    lookup = header_lookup()
    keys = [lookup.get(header_key(h)) for h in headers]
    cells: dict[tuple[int, int], Any] = {}
    merges: list[tuple[int, int, int, int]] = []
    if title_rows >= 1:
        cells[(1, 1)] = labels.LEDGER_TITLE
    if title_rows >= 2:
        cells[(2, 1)] = "窗口：营销服务中心    统计周期：2026-11"
    head = title_rows + 1
    services = [c + 1 for c, k in enumerate(keys) if k and BY_KEY[k].service]
    for c, text in enumerate(headers, start=1):
        if two_level and c in services:
            cells[(head + 1, c)] = text
        else:
            cells[(head, c)] = text
            if two_level:
                merges.append((head, c, head + 1, c))
    if two_level:
        cells[(head, services[0])] = SERVICE_GROUP
        merges.append((head, services[0], head, services[-1]))
    first = head + (2 if two_level else 1)
    hidden = set()
    for i, row in enumerate(rows):
        excel_row = first + i
        for c, key in enumerate(keys, start=1):
            if key is not None and row.get(key) not in (None, ""):
                cells[(excel_row, c)] = row[key]
        if i in hidden_rows:
            hidden.add(excel_row)
    layout = Layout({sheet: cells}, {sheet: merges}, {sheet: hidden})
    if info is not None:
        layout.sheets[labels.INFO_SHEET] = {(r, c): v for r, pair in enumerate(info.items(), start=1)
                                            for c, v in enumerate(pair, start=1)}
    for name, grid in (extra_sheets or {}).items():
        layout.sheets[name] = {(r, c): v for r, line in enumerate(grid, start=1)
                               for c, v in enumerate(line, start=1) if v not in (None, "")}
    return layout


def write_layout(path: Path, layout: Layout, *, engine: str = "xlsxwriter", date1904: bool = False) -> Path:
    """Write a Layout with XlsxWriter (fast) or openpyxl (for its own epoch handling)."""
    path = Path(path)
    if engine == "xlsxwriter":
        import xlsxwriter
        wb = xlsxwriter.Workbook(str(path), {"date_1904": date1904})
        fmt = wb.add_format({"num_format": DATETIME_FORMAT})
        for name, cells in layout.sheets.items():
            ws = wb.add_worksheet(name)
            for (r, c), v in cells.items():
                if isinstance(v, datetime):
                    ws.write_datetime(r - 1, c - 1, v, fmt)
                elif isinstance(v, Formatted):
                    ws.write_datetime(r - 1, c - 1, v.value, wb.add_format({"num_format": v.num_format}))
                elif isinstance(v, FormulaResult):
                    ws.write_formula(r - 1, c - 1, v.formula, None, v.cached)
                else:
                    ws.write(r - 1, c - 1, v)
            for r1, c1, r2, c2 in layout.merges.get(name, ()):
                ws.merge_range(r1 - 1, c1 - 1, r2 - 1, c2 - 1, cells.get((r1, c1)))
            for r in layout.hidden.get(name, ()):
                ws.set_row(r - 1, None, None, {"hidden": True})
        wb.close()
    else:
        import openpyxl
        from openpyxl.utils.datetime import CALENDAR_MAC_1904
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        if date1904:
            wb.epoch = CALENDAR_MAC_1904
        for name, cells in layout.sheets.items():
            ws = wb.create_sheet(name)
            for (r, c), v in cells.items():
                cell = ws.cell(r, c, v.value if isinstance(v, Formatted) else v)
                if isinstance(v, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(v, Formatted):
                    cell.number_format = v.num_format
            for r1, c1, r2, c2 in layout.merges.get(name, ()):
                ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
            for r in layout.hidden.get(name, ()):
                ws.row_dimensions[r].hidden = True
        wb.save(path)
    return path


def write_ledger(path: Path, rows: Sequence[dict[str, Any]] | None = None, *, engine: str = "xlsxwriter",
                 date1904: bool = False, **layout_options: Any) -> Path:
    """A ledger workbook at path; rows default to three sample rows. See ledger_layout for options."""
    rows = sample_rows(3) if rows is None else rows
    return write_layout(path, ledger_layout(rows, **layout_options), engine=engine, date1904=date1904)


def convert_with_soffice(source: Path, fmt: str, outdir: Path) -> Path:
    """Convert with LibreOffice headless (e.g. fmt="xls"); the caller skips when soffice is absent."""
    exe = shutil.which("soffice")
    profile = outdir / "lo-profile"
    subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                    "--outdir", str(outdir), str(source)], check=True, capture_output=True, timeout=120)
    return outdir / f"{source.stem}.{fmt}"


def stray_cell_ledger(path: Path, row: int = 400_000, col: int = 300) -> Path:
    """A 5 KB workbook with one stray cell far from the header: the parser builds a dense grid of
    row x col cells (400,000 x 300 took 4.7 GB and 37 s in process, measured)."""
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("受理台账")
    ws.write_row(0, 0, ["受理编号", "受理时间", "受理渠道", "申请人", "联系方式", "所属区县", "办理结果"])
    ws.write(row, col, "x")
    wb.close()
    return path
