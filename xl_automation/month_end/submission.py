"""Monthly submission: a values-only copy of the period's rows plus a manifest with fingerprints."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from xl_automation import TEMPLATE_VERSION, __version__
from xl_automation.model.config import Config
from xl_automation.rules.consolidate import EXCLUDED_EARLIER, moment, period_verdict
from xl_automation.model.labels import INFO_COMPANY, INFO_SHEET, INFO_PERIOD, INFO_PERIOD_RANGE, INFO_TEMPLATE_VERSION, INFO_WINDOW_CODE, INFO_WINDOW_NAME
from xl_automation.rules.periods import Period, PeriodError
from xl_automation.rules.validate import Check
from xl_automation.xlsx.values_ledger import write_values_ledger

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_VERSION = 1


class SubmitError(Exception):
    """The ledger cannot be submitted as it is; the message says what to fix."""


@dataclass(frozen=True)
class Submitted:
    copy: Path
    manifest: Path
    rows: int
    rows_period: int
    rows_carried: int
    window: str
    period: str
    rows_in_ledger: int = 0
    left_out: tuple[dict[str, Any], ...] = ()     # {"row", "request_id", "reason"} for every row not submitted
    rows_earlier: int = 0                          # earlier periods' closed rows: the archive decides 补报 or known
    rows_by_period: tuple[tuple[str, int], ...] = ()


# what a submission carries: the period's rows, earlier open ones, and earlier closed ones too (the branch
# cannot know whether the group has them: the group's archive decides between 补报 and already reported)
SUBMITTED_VERDICTS = (None, "carried", EXCLUDED_EARLIER)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def submission_period(check: Check, period_text: str | None, config: Config) -> Period:
    text = period_text or check.ledger.info.get(INFO_PERIOD, "")
    if not text:
        raise SubmitError(f"{check.ledger.path.name} › {INFO_SHEET}：没有统计周期。"
                          "请在台账信息表填写统计周期（如 2026-11），或运行时加 --period 2026-11")
    if period_text:                                  # --period as typed: a usage error, no file to name
        return Period.parse(text, config.policy["period_start_day"])
    return ledger_period(check.ledger.path.name, text, config.policy["period_start_day"])


def ledger_period(file_name: str, text: str, start_day: int) -> Period:
    """The period typed in a ledger's 台账信息; one line naming the file, the sheet and the field when it is not
    YYYY-MM (typed as 2026年11月, or turned into a date by Excel when the cell is not text)."""
    try:
        return Period.parse(text, start_day)
    except PeriodError:
        raise PeriodError(f"{file_name} › {INFO_SHEET} › B 列“{INFO_PERIOD}”为“{text}”，不是 YYYY-MM 格式。"
                          f"请在该单元格重新输入统计周期，如 2026-11（Excel 把它变成日期时，先把单元格格式设为“文本”）"
                          ) from None


def submit(check: Check, to_dir: Path, config: Config, now: datetime, period_text: str | None = None) -> Submitted:
    """Write the submission for a checked ledger; the caller has refused ledgers with errors."""
    ledger = check.ledger
    code = (ledger.info.get(INFO_WINDOW_CODE) or "").strip()
    window = config.window(code)
    if window is None:
        raise SubmitError(f"{ledger.path.name} › {INFO_SHEET} › B 列“{INFO_WINDOW_CODE}”为“{code or '空'}”，"
                          f"不是已配置的窗口。请填写窗口编码：{'、'.join(w.code for w in config.windows)}")
    period = submission_period(check, period_text, config)
    verdicts = [(row, period_verdict(row, period)) for row in ledger.rows]
    kept = [row for row, v in verdicts if v in SUBMITTED_VERDICTS]
    carried = sum(1 for _, v in verdicts if v == "carried")
    earlier = sum(1 for _, v in verdicts if v == EXCLUDED_EARLIER)
    left_out = tuple({"row": row.excel_row, "request_id": row.values.get("request_id") or "", "reason": v}
                     for row, v in verdicts if v not in SUBMITTED_VERDICTS)
    by_period: dict[str, int] = {}
    for row in kept:
        label = Period.containing(moment(row.values.get("received_at")), period.start_day).label
        by_period[label] = by_period.get(label, 0) + 1
    stamp = now.strftime("%Y%m%d-%H%M%S")
    folder = Path(to_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (folder, *folder.parents) if p.is_file()), folder)
        raise SubmitError(f"报送目录 {folder} 无法使用：{blocker} 是文件，不是文件夹。请改用一个文件夹作为报送目录") from None
    copy = folder / f"{window.code}_{period.label}_{stamp}.xlsx"
    manifest_path = copy.with_name(copy.stem + MANIFEST_SUFFIX)
    if copy.exists() or manifest_path.exists():
        raise SubmitError(f"{copy.name} 已存在（同一时刻重复报送），请稍后再试")
    info = {INFO_WINDOW_CODE: window.code, INFO_WINDOW_NAME: window.name, INFO_COMPANY: window.company_name,
            INFO_PERIOD: period.label, INFO_PERIOD_RANGE: period.describe(),
            INFO_TEMPLATE_VERSION: ledger.info.get(INFO_TEMPLATE_VERSION, "")}
    program = {i: _program_values(check, row) for i, row in enumerate(kept)}
    tmp = copy.with_name(copy.name + ".part")
    write_values_ledger(tmp, (row.values for row in kept), info, program_values=program)
    tmp.replace(copy)
    manifest = {
        "manifest_version": MANIFEST_VERSION, "window": window.code, "window_name": window.name,
        "company": window.company_name, "period": period.label,
        "rows": len(kept), "rows_period": len(kept) - carried - earlier, "rows_carried": carried,
        "rows_earlier_closed": earlier, "rows_by_period": dict(sorted(by_period.items())),
        "rows_in_ledger": len(ledger.rows), "left_out": list(left_out),
        "source_file": ledger.path.name, "source_sha256": sha256_of(ledger.path),
        "copy_file": copy.name, "copy_sha256": sha256_of(copy),
        "submitted_at": now.isoformat(sep=" "), "template_version": ledger.info.get(INFO_TEMPLATE_VERSION, ""),
        "tool_version": __version__, "current_template_version": TEMPLATE_VERSION,
        "errors": check.errors, "warnings": check.warnings,
        "findings": [f.as_dict() for f in check.findings],
    }
    tmp = manifest_path.with_name(manifest_path.name + ".part")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(manifest_path)
    return Submitted(copy, manifest_path, len(kept), len(kept) - carried - earlier, carried, window.code,
                     period.label, len(ledger.rows), left_out, earlier, tuple(sorted(by_period.items())))


def _program_values(check: Check, row) -> tuple[Any, ...]:
    clock = check.clocks.get(row.excel_row)
    return (clock.minutes if clock else None, clock.status if clock else None, None)


MAX_SEARCH_DEPTH = 2          # 报送 → 报送/2026-11 → its files: where submit --to and the 提交 button put them


def submissions_of(ledger_name: str, window: str, period_label: str, roots: list[Path]) -> list[datetime]:
    """When a ledger file was submitted: the submitted_at of every manifest under `roots` (each searched to
    MAX_SEARCH_DEPTH) made from a file of that name, for that window, for its period or an earlier one.
    A manifest that cannot be read is passed over (the worst case is carrying rows the archive knows)."""
    found: list[datetime] = []
    seen: set[Path] = set()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for depth in range(MAX_SEARCH_DEPTH + 1):
            for manifest in root.glob("/".join(["*"] * depth + ["*" + MANIFEST_SUFFIX])):
                key = manifest.resolve()
                if key in seen:
                    continue
                seen.add(key)
                try:
                    data = json.loads(manifest.read_text(encoding="utf-8")) if manifest.stat().st_size < 5 << 20 else {}
                    if (isinstance(data, dict) and data.get("source_file") == ledger_name and data.get("window") == window
                            and str(data.get("period", "")) <= period_label):
                        found.append(datetime.fromisoformat(data["submitted_at"]))
                except (OSError, ValueError, KeyError, TypeError):
                    continue
    return sorted(found)
