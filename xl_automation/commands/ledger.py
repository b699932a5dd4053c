"""The ledger commands: new-ledger, validate, flag, config, build-templates, build. Each does its work
and prints its text (or JSON), and returns the exit code; wrong arguments raise UsageError."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from xl_automation.commands.edge import print_json
from xl_automation.model.config import Config
from xl_automation.model.exits import EXIT_ERRORS, EXIT_OK, UsageError
from xl_automation.model.findings import finding_line
from xl_automation.rules import sla
from xl_automation.rules.periods import Period, due_day
from xl_automation.xlsx.ledger_check import check_file


def _window(conf: Config, code: str):
    window = conf.window(code)
    if window is None:
        known = "、".join(f"{w.code}（{w.name}）" for w in conf.windows)
        raise UsageError(f"没有编码为 {code} 的窗口。可用窗口：{known}")
    return window


def new_ledger(conf: Config, out: Path, *, window: str | None = None, period: str | None = None,
               from_ledger: Path | None = None, since: datetime | None = None,
               submitted_in: list[Path] | None = None) -> int:
    """A blank ledger for a window and period, or the next one after from_ledger with its rows to carry
    (open requests, and every row received or closed from `since`, by default the earlier of the last
    period's last day and the last submission of that file found in `submitted_in`, its 报送目录 or its
    folder; every row when no submission of it is found: it never reached the group)."""
    from xl_automation.xlsx.template import build_ledger
    last = _last_ledger(from_ledger, since, conf, submitted_in or []) if from_ledger else None
    if not window and last is None:
        raise UsageError("请用 --window 指定窗口编码，或用 --from 上期台账.xlsx 沿用上期台账的窗口")
    target = _window(conf, window or last[0])
    if not period and last is None:
        raise UsageError("请用 --period 指定统计周期（如 2026-12），或用 --from 上期台账.xlsx 接续下一个统计周期")
    term = Period.parse(period, conf.policy["period_start_day"]) if period else last[1]
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"输出文件 {out} 应以 .xlsx 结尾")
    if out.exists():
        raise UsageError(f"{out} 已存在，不覆盖；请换一个文件名或先移走原文件")
    out.parent.mkdir(parents=True, exist_ok=True)
    build_ledger(out, config=conf, window=target, period=term)
    print(f"已生成 {target.name}（{target.code}）{term.label} 台账：{out}")
    if last is not None:
        from xl_automation.xlsx.fill import fill_ledger
        carried = last[2]
        if carried.rows:
            fill_ledger(out, (dict(r.values.items()) for r in carried.rows))
        for line in carried_lines(Path(from_ledger).name, last[3], carried, last[4]):
            print(line)
    return EXIT_OK


def carried_lines(name: str, last_period: str, carried, searched: list[Path]) -> list[str]:
    """What new-ledger --from says about the rows it carried; an unsubmitted ledger is said so."""
    periods = "，".join(f"{p} 期 {n} 行" if p != "?" else f"受理时间无法识别 {n} 行" for p, n in carried.by_period)
    if carried.since is None:
        where = "、".join(str(p) for p in searched) or "（无）"
        return [f"  未找到 {name} 的报送记录（在 {where} 中查找报送清单 *.manifest.json）：按未报送处理，",
                f"  带入其中全部 {len(carried.rows)} 行（{periods or '无'}；其中已办结 {carried.closed_unsubmitted} 行，"
                f"未办结 {carried.open} 行）。",
                f"  下期报送时这些行一并报出，集团按归档计为补报（已报过的不会重复计入）。"
                f"如果 {last_period} 期其实已经报送，请加 --submitted-in 报送文件夹 指明报送清单所在的位置，"
                f"或加 --since 报送时间"]
    return [f"  从 {name} 带入 {len(carried.rows)} 行：未办结 {carried.open} 行，"
            f"{carried.since:%Y-%m-%d %H:%M} 以后受理或办结 {carried.recent} 行，受理时间无法识别 {carried.no_time} 行"]


def _last_ledger(path: Path, since: datetime | None, conf: Config, submitted_in: list[Path]):
    """(window code, the period after the last one, the rows to carry, the last period, folders searched)
    from the last period's ledger. The cut-off follows the last submission of that file found (submit's
    manifests in submitted_in, the ledger's 报送目录 and its own folder); none found: every row is carried."""
    from xl_automation.rules.cross_month import carry_since, next_period, rows_to_carry
    from xl_automation.model.labels import INFO_PERIOD, INFO_SUBMIT_DIR, INFO_WINDOW_CODE
    from xl_automation.month_end.submission import ledger_period, submissions_of
    from xl_automation.xlsx.isolation import read_untrusted
    path = Path(path)
    ledger = read_untrusted(path, config=conf)        # in a worker within the limits, as every untrusted read
    text = (ledger.info.get(INFO_PERIOD) or "").strip()
    if not text:
        raise UsageError(f"{ledger.path.name} › 台账信息：没有统计周期，无法确定上期。请在台账信息表填写统计周期（如 2026-11）")
    start_day = conf.policy["period_start_day"]
    last = ledger_period(ledger.path.name, text, start_day)
    code = (ledger.info.get(INFO_WINDOW_CODE) or "").strip()
    roots = list(submitted_in)
    target = str(ledger.info.get(INFO_SUBMIT_DIR) or "").strip()
    if target:
        roots.append(Path(target) if Path(target).is_absolute() else path.parent / target)
    roots.append(path.parent)
    if since is None:
        since = carry_since(last, submissions_of(path.name, code, last.label, roots))
    return code, next_period(last), rows_to_carry(ledger.rows, since, start_day), last.label, roots


def _summary(check, annotation) -> dict[str, Any]:
    data = {"file": str(check.ledger.path), "rows": len(check.ledger.rows), "errors": check.errors,
            "warnings": check.warnings, "findings": [f.as_dict() for f in check.findings]}
    if annotation is not None:
        data["annotated"] = {"path": str(annotation.path), "copy": annotation.is_copy,
                             "reasons": list(annotation.reasons),
                             "notices": [f.as_dict() for f in annotation.notices]}
    return data


def _print_head(check) -> None:
    ledger = check.ledger
    print(f"{ledger.path.name} › {ledger.sheet}（表头在第 {ledger.header_row} 行）："
          f"共 {len(ledger.rows)} 行，错误 {check.errors} 条，提醒 {check.warnings} 条")


def _print_annotation(annotation) -> None:
    if annotation is None:
        return
    print(f"已写回标注：{annotation.path}")
    for notice in annotation.notices:
        print(finding_line(notice))


def validate(conf: Config, file: Path, now: datetime, *, annotate: bool = False, json: bool = False) -> int:
    """Every error and warning of one ledger; exit 1 when it has an error."""
    check, annotation = check_file(Path(file), conf, now, annotate)
    if json:
        print_json(_summary(check, annotation))
    else:
        _print_head(check)
        for f in check.findings:
            print(finding_line(f))
        if not check.findings:
            print("  全部通过。")
        _print_annotation(annotation)
    return EXIT_ERRORS if check.errors else EXIT_OK


def flag(conf: Config, file: Path, now: datetime, *, annotate: bool = False, json: bool = False) -> int:
    """Each request's time to contact and its time-limit status; exit 1 when the ledger has an error."""
    from xl_automation.rules.validate import CLOCK_WARNINGS, row_statuses
    check, annotation = check_file(Path(file), conf, now, annotate)
    statuses = row_statuses(check)
    counts = Counter(s["status"] for s in statuses if s["status"])
    if json:
        data = _summary(check, annotation)
        data["status_counts"] = {s: counts.get(s, 0) for s in sla.STATUSES}
        data["status"] = statuses
        print_json(data)
    else:
        _print_head(check)
        print("  时限状态：" + "，".join(f"{s} {counts.get(s, 0)}" for s in sla.STATUSES))
        for s in statuses:
            if s["status"] in (*sla.OVERDUE_STATUSES, sla.NEAR):
                over = (f"，超出 {sla.describe_minutes(-s['margin'])}"
                        if s["margin"] is not None and s["margin"] < 0 else "")
                print(f"  [{s['status']}] 第 {s['row']} 行 {s['request_id'] or '（无编号）'}："
                      f"{s['minutes']:g} 分钟（{sla.describe_minutes(s['minutes'])}）{over}")
        for f in check.findings:
            if f.code in CLOCK_WARNINGS:
                print(finding_line(f))
        unclocked = sum(1 for s in statuses if s["status"] is None)
        if unclocked:
            print(f"  {unclocked} 行没有时限状态（受理时间缺失或只有日期、回复时间只有日期或早于受理时间），"
                  "不计入按时率；运行 validate 查看。")
        if check.errors:
            print(f"  另有 {check.errors} 条错误，运行 validate 查看。")
        _print_annotation(annotation)
    return EXIT_ERRORS if check.errors else EXIT_OK


def show_config(conf: Config, *, json: bool = False) -> int:
    """The configuration in use: in full as JSON, or its policy in sentences."""
    if json:
        data = dict(conf.data)
        data["windows"] = [{"code": w.code, "name": w.name, "company": w.company,
                            "company_name": w.company_name, "supervisor": w.supervisor,
                            "placeholder": w.placeholder} for w in conf.windows]
        data["areas"] = list(conf.areas)
        data["source"] = conf.source
        print_json(data)
        return EXIT_OK
    p = conf.policy
    print(f"配置来源：{conf.source}")
    print("窗口：")
    for w in conf.windows:
        print(f"  {w.code}  {w.name}  （{w.company_name}；考核单位：{w.supervisor}）{'  [名称待确认]' if w.placeholder else ''}")
    clock = "自然时间" if p["clock"] == "elapsed" else "工作时间（" + "、".join("-".join(h) for h in p["working_hours"]) + "，按法定节假日和调休）"
    print(f"时限：{p['sla_minutes']} 分钟内联系对接，{p['warn_minutes']} 分钟起提醒；计时方式：{clock}")
    print(f"统计周期：每月 {p['period_start_day']} 日起；报送截止：每月 {due_day(p)} 日前（周期结束后的第一个该日）")
    print(f"个人信息脱敏：{'开启' if p['mask_personal_info'] else '关闭'}")
    from xl_automation.xlsx.isolation import Limits
    lim = Limits.from_config(conf)
    print(f"读取分公司文件：每个读取进程内存上限 {lim.memory_mb} MB，每个文件限时 {lim.seconds:g} 秒，"
          f"并行 {lim.workers or f'按 CPU 核数（本机 {Limits().worker_count(1 << 10)}）'} 个进程")
    ent = conf.data.get("enterprises", {})
    print(f"服务企业名录：{len(ent.get('items', []))} 家（{'草稿，待确认' if ent.get('status') == 'draft' else '已确认'}）")
    print(f"镇街：{len(conf.towns)} 个名称（含旧称）；功能区镇街表：" +
          "、".join(f"{z} {len(t)}" for z, t in conf.data.get("zone_towns", {}).items()))
    return EXIT_OK


def build_templates(conf: Config, out: Path) -> int:
    from xl_automation.xlsx.template import build_templates as build_them
    for path in build_them(Path(out), config=conf):
        print(f"已生成 {path}")
    return EXIT_OK


def build(root: Path, macros: str | None = None) -> int:
    """templates/ and workbook/ (the ledger with buttons, the group workbook, the ribbon add-in) under root."""
    from xl_automation.excel.build import build as build_all
    from xl_automation.excel.build_vba import BuildError
    try:
        written = build_all(Path(root), macros=macros)
    except BuildError as e:
        raise UsageError(f"构建失败：{e}") from None
    for path in written:
        print(f"已生成 {path}")
    return EXIT_OK
