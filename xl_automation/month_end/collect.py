"""Reading a folder of submissions and plain ledgers for one period; bad files are listed, never fatal."""
from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema

from xl_automation.model.config import Config
from xl_automation.model.exits import UsageError
from xl_automation.rules.consolidate import Source
from xl_automation.model.labels import INFO_PERIOD, INFO_WINDOW_CODE
from xl_automation.model.ledger import LedgerError, gc_paused
from xl_automation.rules.periods import Period
from xl_automation.month_end.submission import MANIFEST_SUFFIX, sha256_of

LEDGER_SUFFIXES = (".xlsx", ".xlsm", ".xls")
MAX_MANIFEST_BYTES = 5 << 20
# a bare file name beside the manifest: no folder, no drive ("C:x.xlsx" is a path on Windows), no NTFS
# stream ("x.xlsx:s.xlsx"), nothing a Windows file name cannot hold
COPY_NAME = r'^[^/\\:*?"<>|\x00-\x1f]+\.xlsx$'
_TEXT_OR_NULL = {"type": ["string", "null"]}
# findings are shown as the branch's program wrote them (校验问题, the JSON): each field of the type a Finding has
MANIFEST_SCHEMA = {
    "type": "object",
    "required": ["manifest_version", "window", "period", "rows", "copy_file", "copy_sha256", "submitted_at"],
    "properties": {
        "manifest_version": {"const": 1}, "window": {"type": "string", "maxLength": 40},
        "period": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, "rows": {"type": "integer", "minimum": 0},
        "copy_file": {"type": "string", "pattern": COPY_NAME},
        "copy_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "submitted_at": {"type": "string"}, "errors": {"type": "integer"}, "warnings": {"type": "integer"},
        "findings": {"type": "array", "items": {
            "type": "object", "required": ["code", "severity", "message", "hint"],
            "properties": {"code": {"type": "string", "maxLength": 60}, "severity": {"enum": ["error", "warning"]},
                           "sheet": _TEXT_OR_NULL, "column": _TEXT_OR_NULL, "cell": _TEXT_OR_NULL,
                           "row": {"type": ["integer", "null"]},
                           "value": {"type": ["string", "number", "boolean", "null"]},
                           "message": {"type": "string"}, "hint": {"type": "string"}}}},
        "rows_in_ledger": {"type": "integer", "minimum": 0},
        "left_out": {"type": "array", "items": {
            "type": "object", "required": ["row", "request_id", "reason"],
            "properties": {"row": {"type": "integer"}, "request_id": {"type": "string", "maxLength": 200},
                           "reason": {"type": "string", "maxLength": 200}}}},
    },
}


# checked once here; jsonschema.validate() re-checks the schema itself on every call (~15 ms a manifest)
MANIFEST_VALIDATOR = jsonschema.validators.validator_for(MANIFEST_SCHEMA)(MANIFEST_SCHEMA)


@dataclass
class Collected:
    sources: list[Source]                      # in force, one per window
    superseded: list[Source] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)   # {"file", "reason"}
    skipped: list[dict[str, str]] = field(default_factory=list)    # other periods, not ledgers
    # late submissions (and plain ledgers) of EARLIER periods dropped in this period's folder, one per window
    # and period: with an archive their requests not yet reported become 补报 (month_archive.use_earlier)
    earlier: list[Source] = field(default_factory=list)
    # earlier submissions of a window in force whose copy could not be read: {"window", "file", "reason"};
    # what they held cannot be compared with the newest copy (resubmission.missing_rows), a person checks
    superseded_unread: list[dict[str, str]] = field(default_factory=list)
    # late submissions of an earlier period replaced by a later one of that period (listed among the skipped)
    superseded_earlier: list[Source] = field(default_factory=list)
    # the reverse: a window's LATER submission of the period could not be used, an earlier one is in force:
    # {"window", "file", "reason", "in_force"}; the window must be told its resubmission did not count
    newest_unusable: list[dict[str, str]] = field(default_factory=list)

    def read_line(self) -> str:
        """The progress line once every file is read."""
        return f"已读取 {len(self.sources)} 个窗口的文件，共 {sum(len(s.rows) for s in self.sources)} 行，正在汇总……"


def later_period_reason(own: str, period: Period) -> str:
    return f"属于 {own} 统计周期（晚于本期 {period.label}），未计入：请把它放到 {own} 的报送文件夹，汇总 {own} 时计入"


def earlier_period_reason(src: Source, period: Period) -> str:
    """Why a late submission of an earlier period was not used (no archive to tell new requests from known)."""
    own = src.for_period
    return (f"这是 {src.window} 的 {own} 统计周期报送（{len(src.rows)} 行），放在了 {period.label} 的文件夹里。"
            f"本次汇总没有可用的归档（未使用归档，或归档中还没有更早的统计周期），无法判断其中哪些需求已经计入过，"
            f"未计入：请使用归档汇总本期（未报过的需求按补报计入，已报过的不重复计入），"
            f"或把它移到 {own} 的报送文件夹后重新汇总 {own}")


def _hidden(path: Path) -> bool:
    if path.name.startswith((".", "~$")):
        return True
    attrs = getattr(os.stat(path), "st_file_attributes", 0)
    return bool(attrs & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(regular files, everything else: symbolic links, named pipes, devices) under the folder, hidden ones
    left out. Only regular files are read: a link may point anywhere (/dev/zero, another folder's file) and
    a pipe never ends; links to folders are not followed."""
    out, special = [], []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        special += [Path(root, d) for d in dirs if Path(root, d).is_symlink()]
        for name in sorted(files):
            path = Path(root, name)
            if path.name.startswith((".", "~$")):
                continue
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            (out if stat.S_ISREG(mode) else special).append(path)
    return [p for p in out if not _hidden(p)], special


NOT_REGULAR = "不是普通文件（符号链接、管道或设备），未读取"
PUT_THE_FILE = "：请把报送文件本身放进报送文件夹"


def check_period_folder(folder: Path) -> Path:
    """The folder of a period's submissions, or one line saying it does not exist or is a file (before
    anything is opened or created beside it, such as the archive)."""
    folder = Path(folder)
    if folder.is_dir():
        return folder
    if folder.exists():
        raise UsageError(f"报送目录 {folder} 是一个文件，不是文件夹：请给出存放本期报送文件的文件夹"
                         f"（如 报送{os.sep}2026-11）")
    raise UsageError(f"报送目录 {folder} 不存在：请检查路径和文件夹名")


@gc_paused()     # checking a million rows builds no cycles; GC passes over the growing month would cost a fifth
def collect(folder: Path, period: Period, config: Config, now: datetime, on_file=None, rows_cache=None) -> Collected:
    """Every submission and plain ledger in the folder, each read in an isolated worker (in parallel):
    a file that crashes the parser, storms memory or hangs is rejected like any unusable file.
    on_file(n, total, name) is called as each workbook goes to a worker (progress). rows_cache
    (row_cache.RowCache): submission copies already parsed, by sha256, are not read again."""
    from xl_automation.xlsx.isolation import read_many
    folder = check_period_folder(folder)
    files, special = _files(folder)
    result = Collected([])
    claimed: set[Path] = set()
    submitted: list[tuple[Path, Path, str, dict[str, Any]]] = []   # manifest, copy, sha256, data
    unread: list[tuple[dict[str, Any], str]] = []     # sound manifests whose copy could not be used, and why
    for manifest in (p for p in files if p.name.endswith(MANIFEST_SUFFIX)):
        entry = _from_manifest(manifest, period, config, result, unread)
        claimed.add(manifest)
        if entry is not None:
            claimed.add(entry[1])
            submitted.append(entry)
        else:
            copy_name = _peek_copy(manifest)
            if copy_name:
                claimed.add(manifest.with_name(copy_name))
    result.skipped[:0] = [{"file": _rel(p, folder), "reason": NOT_REGULAR + PUT_THE_FILE}
                          for p in special if p not in claimed]
    plain: list[Path] = []
    for path in files:
        if path in claimed:
            continue
        if path.suffix.lower() not in LEDGER_SUFFIXES:
            result.skipped.append({"file": _rel(path, folder), "reason": "不是台账文件（.xlsx/.xlsm/.xls）"})
        else:
            plain.append(path)
    cached = {entry[2]: rows for entry in submitted
              if rows_cache is not None and (rows := rows_cache.get(entry[2])) is not None}
    to_read = [entry for entry in submitted if entry[2] not in cached]
    # a plain ledger is checked as soon as it arrives, while the workers read the next files
    plain_outcomes: dict[int, tuple[str, Any]] = {}

    def arrived(index: int, ledger) -> None:
        if index >= len(to_read):
            plain_outcomes[index] = _plain(plain[index - len(to_read)], ledger, folder, period, config, now)
    ledgers = read_many([entry[1] for entry in to_read] + plain, config=config, on_file=on_file, on_result=arrived)
    fresh = iter(ledgers[:len(to_read)])
    candidates = []
    for entry in submitted:
        ledger = SimpleNamespace(rows=cached[entry[2]]) if entry[2] in cached else next(fresh)
        if rows_cache is not None and entry[2] not in cached and not isinstance(ledger, LedgerError):
            rows_cache.put(entry[2], ledger.rows)
        if (src := _submission(*entry, ledger, result, period.label)) is not None:
            candidates.append(src)
        elif isinstance(ledger, LedgerError):
            unread.append((entry[3], result.rejected[-1]["file"]))
    for index in range(len(to_read), len(ledgers)):
        kind, outcome = plain_outcomes[index]
        if kind == "source":
            candidates.append(outcome)
        else:
            getattr(result, kind).append(outcome)
    later = [s for s in candidates if s.submitted_at is not None and s.submitted_at > now]
    for src in later:        # handed in after the moment this run stands for (--now): not yet there
        result.skipped.append({"file": _rel(src.path, folder),
                               "reason": f"报送时间 {src.submitted_at:%Y-%m-%d %H:%M} 晚于本次汇总时间 {now:%Y-%m-%d %H:%M}，未计入"})
    candidates = [s for s in candidates if s not in later]
    latest: dict[tuple[str, str | None], Source] = {}
    for src in sorted(candidates, key=lambda s: (s.submitted_at or datetime.min, s.path.name)):
        key = (src.window, src.for_period)
        if key in latest:
            old = latest[key]
            if src.for_period is None:
                result.superseded.append(old)
            else:
                result.skipped.append({"file": _rel(old.path, folder), "reason":
                                       f"已被 {src.window} 更晚的一次 {src.for_period} 补交报送 {src.path.name} 替换"})
                result.superseded_earlier.append(old)
        latest[key] = src
    order = [w.code for w in config.windows]
    result.sources = sorted((s for s in latest.values() if s.for_period is None), key=lambda s: order.index(s.window))
    result.earlier = sorted((s for s in latest.values() if s.for_period is not None),
                            key=lambda s: (order.index(s.window), s.for_period))
    _unusable_submissions(unread, result, period.label)
    return result


def _unusable_submissions(unread: list[tuple[dict[str, Any], str]], result: Collected, label: str) -> None:
    """Sound manifests of the period whose copy could not be used, beside the window's submission in force:
    submitted before it, their rows could not be compared with the newest copy (superseded_unread); submitted
    after it, the window's resubmission did not count and the month stands on the earlier one
    (newest_unusable). The reason is the rejected entry's."""
    in_force = {s.window: s for s in result.sources}
    reasons = {x.get("file"): x.get("reason", "") for x in result.rejected}
    for data, name in unread:
        src = in_force.get(data["window"])
        try:
            at = datetime.fromisoformat(data["submitted_at"])
        except ValueError:
            continue
        if data["period"] != label or src is None or src.submitted_at is None:
            continue
        if at < src.submitted_at:
            result.superseded_unread.append({"window": src.window, "file": name, "reason": reasons.get(name, ""),
                                             "newest": src.path.name})
        elif at > src.submitted_at:
            result.newest_unusable.append({"window": src.window, "file": name, "reason": reasons.get(name, ""),
                                           "in_force": src.path.name})


def _plain(path: Path, ledger, folder: Path, period: Period, config: Config, now: datetime) -> tuple[str, Any]:
    """A plain ledger as ("source", its Source) once checked, or ("rejected" | "skipped", the entry saying why)."""
    from xl_automation.rules.validate import check_ledger
    if isinstance(ledger, LedgerError):
        return "rejected", {"file": _rel(path, folder), "reason": _reason(ledger)}
    code = (ledger.info.get(INFO_WINDOW_CODE) or "").strip() or _window_from_name(path, config)
    if not code or config.window(code) is None:
        return "rejected", {"file": _rel(path, folder),
                            "reason": f"无法确定窗口：台账信息表的窗口编码为“{code or '空'}”，不是已配置的窗口"}
    own_period = _period_label(ledger.info.get(INFO_PERIOD), period)
    if own_period and own_period > period.label:
        return "skipped", {"file": _rel(path, folder), "reason": later_period_reason(own_period, period)}
    check = check_ledger(ledger, config, now)
    return "source", Source(code, path, sha256_of(path), ledger.rows, "ledger",
                            datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0),
                            check.errors, check.warnings, check.findings,
                            for_period=own_period if own_period and own_period < period.label else None)


def _period_label(text: str | None, period: Period) -> str:
    """The 统计周期 a ledger names, as a label (YYYY-MM) that sorts as periods do: "2027-1" is 2027-01, as
    validate and submit read it. Text that is no period ("" too) names none: the folder's period applies
    (validate has warned that it cannot be read)."""
    from xl_automation.rules.periods import PeriodError
    try:
        return Period.parse(text or "", period.start_day).label
    except PeriodError:
        return ""


def _reason(error: LedgerError) -> str:
    return f"{error.finding.message}。{error.finding.hint}"


def _rel(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return path.name


def _peek_copy(manifest: Path) -> str | None:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        name = data.get("copy_file") if isinstance(data, dict) else None
        return name if isinstance(name, str) and re.search(COPY_NAME, name) else None
    except (OSError, ValueError):
        return None


def _window_from_name(path: Path, config: Config) -> str:
    for w in config.windows:
        if path.name.startswith((w.code + "_", w.code + "-")) or w.name in path.name:
            return w.code
    return ""


def _has_surrogate(value: Any) -> bool:
    """A JSON escape \\ud800 alone gives a string no UTF-8 output (the report, the JSON, the console) can hold."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _schema_problem(error: jsonschema.ValidationError) -> str:
    """Which field of a manifest is wrong, in Chinese; jsonschema's own words in brackets for support."""
    where = "/".join(str(p) for p in error.absolute_path)
    field = f"字段 {where}" if where else "清单的结构"
    return f"{field}不符合报送清单的格式（{error.message[:60]}）；请让该窗口重新提交"


def _from_manifest(manifest: Path, period: Period, config: Config, result: Collected,
                   unread: list[tuple[dict[str, Any], str]]) -> tuple[Path, Path, str, dict[str, Any]] | None:
    """(manifest, submission copy, its sha256, manifest data) when the manifest is sound and the copy is
    the one it names; the copy itself is read later, with the other files, in parallel. A sound manifest
    whose copy cannot be used goes to `unread` too (data, the rejected entry's file)."""
    folder_name = manifest.name
    try:
        if manifest.stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError("清单文件过大")
        text = manifest.read_text(encoding="utf-8")
        data: Any = json.loads(text)
        if "\\u" in text and _has_surrogate(data):       # before the schema, whose messages quote the values
            raise ValueError("含有无法保存的字符（孤立的 \\ud800–\\udfff 转义）")
        MANIFEST_VALIDATOR.validate(data)
    except (OSError, ValueError, jsonschema.ValidationError) as e:
        msg = _schema_problem(e) if isinstance(e, jsonschema.ValidationError) else str(e)
        result.rejected.append({"file": folder_name, "reason": f"报送清单无法读取或格式不对：{msg[:120]}"})
        return None
    if data["period"] > period.label:
        result.skipped.append({"file": folder_name, "reason": later_period_reason(data["period"], period)})
        return None
    if config.window(data["window"]) is None:
        result.rejected.append({"file": folder_name, "reason": f"窗口编码 {data['window']} 不是已配置的窗口"})
        return None
    copy = manifest.with_name(data["copy_file"])
    if copy.is_symlink() or (copy.exists() and not copy.is_file()):
        result.rejected.append({"file": folder_name, "reason": f"清单所列的报送文件 {copy.name} {NOT_REGULAR}"})
        unread.append((data, folder_name))
        return None
    if not copy.is_file():
        result.rejected.append({"file": folder_name, "reason": f"找不到清单所列的报送文件 {copy.name}"})
        unread.append((data, folder_name))
        return None
    digest = sha256_of(copy)
    if digest != data["copy_sha256"]:
        result.rejected.append({"file": copy.name, "reason": "报送文件的 sha256 与清单不符：报送后被修改过，请重新报送"})
        unread.append((data, copy.name))
        return None
    return manifest, copy, digest, data


def _submission(manifest: Path, copy: Path, digest: str, data: dict[str, Any], ledger,
                result: Collected, period_label: str) -> Source | None:
    if isinstance(ledger, LedgerError):
        result.rejected.append({"file": copy.name, "reason": _reason(ledger)})
        return None
    try:
        submitted = datetime.fromisoformat(data["submitted_at"])
    except ValueError:
        result.rejected.append({"file": manifest.name, "reason": "报送时间格式不对"})
        return None
    from xl_automation.model.findings import Finding
    findings = [Finding(**{k: f.get(k) for k in Finding.__dataclass_fields__})
                for f in data.get("findings", []) if isinstance(f, dict) and f.get("code")]
    return Source(data["window"], copy, digest, ledger.rows, "submission", submitted,
                  int(data.get("errors", 0)), int(data.get("warnings", 0)), findings, data,
                  for_period=data["period"] if data["period"] != period_label else None)
