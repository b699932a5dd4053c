"""Where a ledger's data sits in a sheet, and what its structure says: the header row found by content,
each schema column's position, and the structural findings (aliases, duplicate and missing columns,
merged header cells, hidden rows)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xl_automation.model.findings import Finding, make
from xl_automation.model.ledger import column_letter, consecutive_runs
from xl_automation.model.schema import BY_KEY, COLUMNS, INPUT_COLUMNS, header_lookup
from xl_automation.rules.normalize import clean_text, header_key
from xl_automation.xlsx.row_values import is_blank

__all__ = ["HEADER_SCAN_ROWS", "MIN_HEADER_MATCHES", "Layout", "find_header", "header_matches", "layout_of",
           "hidden_row_findings"]

HEADER_SCAN_ROWS = 30
MIN_HEADER_MATCHES = 5
MAX_LISTED_RANGES = 8
_LOOKUP = header_lookup()

Header = tuple[int, list[tuple[int, str, str]]]     # 0-based row, (column index, key, header as written)


@dataclass
class Layout:
    columns: dict[str, int]                 # key -> 1-based column
    names: dict[str, str]                   # key -> header text as written
    data_start: int                         # 0-based grid row of the first data row
    findings: list[Finding] = field(default_factory=list)


def header_matches(line: list[Any]) -> list[tuple[int, str, str]]:
    """(column index, key, header text as written) for every cell that names a schema column."""
    out = []
    for c, v in enumerate(line):
        if isinstance(v, str) and v:
            key = _LOOKUP.get(header_key(v))
            if key:
                out.append((c, key, clean_text(v).replace("\n", "")))
    return out


def find_header(grid: list[list[Any]]) -> Header | None:
    """(0-based row, matches) of the top row naming the most distinct columns, if it names enough."""
    best = None
    for r, line in enumerate(grid[:HEADER_SCAN_ROWS]):
        found = header_matches(line)
        distinct = len({key for _, key, _ in found})
        if distinct >= MIN_HEADER_MATCHES and (best is None or distinct > best[0]):
            best = (distinct, r, found)
    return None if best is None else (best[1], best[2])


def layout_of(grid: list[list[Any]], merged: list, header: Header, sheet: str) -> Layout:
    """Map keys to columns, reporting aliases, duplicates, missing columns and merged header cells."""
    head, cells = header
    last = head
    below = grid[head + 1] if head + 1 < len(grid) else []
    under = [(c, key, text) for c, key, text in header_matches(below) if all(c != x for x, _, _ in cells)]
    if under and all(is_blank(below[c]) for c, _, _ in cells):
        # two-level header: group titles such as 办事需求 above, 用水/用电/… in the row below
        last = head + 1
        cells = sorted([(c, k, t, head) for c, k, t in cells] + [(c, k, t, last) for c, k, t in under])
    else:
        cells = [(c, k, t, head) for c, k, t in cells]
    out = Layout({}, {}, last + 1)

    def add(code: str, **fields: Any) -> None:
        out.findings.append(make(code, sheet=sheet, **fields))
    seen: dict[str, list[str]] = {}
    for c, key, text, r in cells:
        ref = f"{column_letter(c + 1)}{r + 1}"
        seen.setdefault(key, []).append(ref)
        if key in out.columns:
            continue
        out.columns[key], out.names[key] = c + 1, text
        standard = BY_KEY[key].header
        if header_key(text) != header_key(standard):
            add("column-alias", row=r + 1, column=standard, cell=ref, value=text, alias=text)
    for key, refs in seen.items():
        if len(refs) > 1:
            add("column-duplicate", row=head + 1, column=BY_KEY[key].header, cell=refs[1], cells="、".join(refs))
    required = [c.header for c in COLUMNS if c.column_required and c.key not in out.columns]
    optional = [c.header for c in INPUT_COLUMNS if not c.column_required and c.key not in out.columns]
    if required:
        add("column-missing", row=head + 1, columns="、".join(required))
    if optional:
        add("column-optional-missing", row=head + 1, columns="、".join(optional))
    # ranges spanning columns (办事需求 over the services) say most, so they are listed first
    touching = sorted((m for m in merged if m[0][0] <= last and m[1][0] >= head),
                      key=lambda m: (m[0][1] == m[1][1], m[0][0], m[0][1]))
    spans = [_range_ref(m) for m in touching]
    if spans:
        listed = "、".join(spans[:MAX_LISTED_RANGES])
        more = f" 等共 {len(spans)} 处" if len(spans) > MAX_LISTED_RANGES else ""
        add("header-merged", row=head + 1, cell=spans[0].split(":")[0], ranges=listed + more)
    return out


def hidden_row_findings(rows: list[int], sheet: str) -> list[Finding]:
    """One warning per run of consecutive hidden data rows: a filtered ledger hides thousands."""
    return [make("row-hidden", sheet=sheet, row=run[0],
                 rows=str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}（共 {len(run)} 行）") for run in consecutive_runs(rows)]


def error_cell_findings(cells: list[tuple[int, str, str]], sheet: str, layout: "Layout") -> list[Finding]:
    """One error per data cell of an input column that holds an error value (#N/A, #DIV/0! …): calamine
    reads it as blank, which would pass for 未填写, make a contacted request overdue, or drop a row."""
    by_letter = {column_letter(index): key for key, index in layout.columns.items() if key in _INPUT_KEYS}
    first = layout.data_start + 1
    return [make("cell-error", sheet=sheet, row=row, column=BY_KEY[by_letter[letters]].header,
                 cell=f"{letters}{row}", value=value or "#错误")
            for row, letters, value in sorted(set(cells), key=lambda c: (c[0], len(c[1]), c[1]))
            if row >= first and letters in by_letter]


_INPUT_KEYS = frozenset(c.key for c in INPUT_COLUMNS)


def _range_ref(merged) -> str:
    (r1, c1), (r2, c2) = merged
    return f"{column_letter(c1 + 1)}{r1 + 1}:{column_letter(c2 + 1)}{r2 + 1}"
