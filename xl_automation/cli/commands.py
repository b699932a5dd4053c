"""What each CLI command does: open, call the core, write, report (text or JSON)."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from xl_automation.rules import sla
from xl_automation.cli.exits import EXIT_ERRORS, EXIT_OK, EXIT_UNUSABLE, UsageError, print_json, parse_now
from xl_automation.model.findings import Finding
from xl_automation.model.labels import SEVERITY_ZH
from xl_automation.rules.periods import Period, due_day


def _window(conf, code: str):
    window = conf.window(code)
    if window is None:
        known = "、".join(f"{w.code}（{w.name}）" for w in conf.windows)
        raise UsageError(f"没有编码为 {code} 的窗口。可用窗口：{known}")
    return window


def new_ledger(args) -> int:
    from xl_automation.xlsx.template import build_ledger
    conf = args.config_obj
    last = _last_ledger(args, conf) if getattr(args, "from_ledger", None) else None
    if not args.window and last is None:
        raise UsageError("请用 --window 指定窗口编码，或用 --from 上期台账.xlsx 沿用上期台账的窗口")
    window = _window(conf, args.window or last[0])
    if not args.period and last is None:
        raise UsageError("请用 --period 指定统计周期（如 2026-12），或用 --from 上期台账.xlsx 接续下一个统计周期")
    period = Period.parse(args.period, conf.policy["period_start_day"]) if args.period else last[1]
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"输出文件 {out} 应以 .xlsx 结尾")
    if out.exists():
        raise UsageError(f"{out} 已存在，不覆盖；请换一个文件名或先移走原文件")
    out.parent.mkdir(parents=True, exist_ok=True)
    build_ledger(out, config=conf, window=window, period=period)
    print(f"已生成 {window.name}（{window.code}）{period.label} 台账：{out}")
    if last is not None:
        from xl_automation.xlsx.fill import fill_ledger
        carried = last[2]
        if carried.rows:
            fill_ledger(out, (dict(r.values.items()) for r in carried.rows))
        for line in carried_lines(Path(args.from_ledger).name, last[3], carried, last[4]):
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


def _last_ledger(args, conf):
    """(window code, the period after the last one, the rows to carry, the last period, folders searched)
    from --from LAST.xlsx. The cut-off follows the last submission of that file found (submit's manifests
    in --submitted-in, the ledger's 报送目录 and its own folder); none found: every row is carried."""
    from xl_automation.rules.cross_month import carry_since, next_period, rows_to_carry
    from xl_automation.model.labels import INFO_PERIOD, INFO_SUBMIT_DIR, INFO_WINDOW_CODE
    from xl_automation.month_end.submission import submissions_of
    from xl_automation.xlsx.reader import read_ledger
    path = Path(args.from_ledger)
    ledger = read_ledger(path, config=conf)
    text = (ledger.info.get(INFO_PERIOD) or "").strip()
    if not text:
        raise UsageError(f"{ledger.path.name} › 台账信息：没有统计周期，无法确定上期。请在台账信息表填写统计周期（如 2026-11）")
    start_day = conf.policy["period_start_day"]
    last = Period.parse(text, start_day)
    code = (ledger.info.get(INFO_WINDOW_CODE) or "").strip()
    roots = [Path(d) for d in (getattr(args, "submitted_in", None) or [])]
    target = str(ledger.info.get(INFO_SUBMIT_DIR) or "").strip()
    if target:
        roots.append(Path(target) if Path(target).is_absolute() else path.parent / target)
    roots.append(path.parent)
    if getattr(args, "since", None):
        since = parse_now(args.since)
    else:
        since = carry_since(last, submissions_of(path.name, code, last.label, roots))
    return code, next_period(last), rows_to_carry(ledger.rows, since, start_day), last.label, roots


def check_file(path: Path, conf, now, annotate: bool):
    """Read, validate and clock one ledger; annotate it when asked. Returns (check, annotation)."""
    from xl_automation.xlsx.isolation import read_untrusted
    from xl_automation.rules.validate import check_ledger
    ledger = read_untrusted(path, config=conf)
    check = check_ledger(ledger, conf, now)
    annotation = None
    if annotate:
        from xl_automation.xlsx.annotate import annotate as write_annotations
        annotation = write_annotations(ledger, check.findings, check.clocks, now=now)
    return check, annotation


def _summary(check, annotation) -> dict[str, Any]:
    data = {"file": str(check.ledger.path), "rows": len(check.ledger.rows), "errors": check.errors,
            "warnings": check.warnings, "findings": [f.as_dict() for f in check.findings]}
    if annotation is not None:
        data["annotated"] = {"path": str(annotation.path), "copy": annotation.is_copy,
                             "reasons": list(annotation.reasons),
                             "notices": [f.as_dict() for f in annotation.notices]}
    return data


def finding_line(f: Finding) -> str:
    where = f"{f.sheet}!{f.cell}" if f.cell else (f"{f.sheet} 第 {f.row} 行" if f.row else (f.sheet or "文件"))
    column = f" {f.column}" if f.column else ""
    return f"  [{SEVERITY_ZH[f.severity]}] {where}{column}：{f.message}。处理：{f.hint}"


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


def validate(args) -> int:
    conf = args.config_obj
    check, annotation = check_file(Path(args.file), conf, parse_now(args.now), args.annotate)
    if args.json:
        print_json(_summary(check, annotation))
    else:
        _print_head(check)
        for f in check.findings:
            print(finding_line(f))
        if not check.findings:
            print("  全部通过。")
        _print_annotation(annotation)
    return EXIT_ERRORS if check.errors else EXIT_OK


def row_statuses(check) -> list[dict[str, Any]]:
    out = []
    for row in check.ledger.rows:
        clock = check.clocks.get(row.excel_row)
        out.append({"row": row.excel_row, "request_id": row.values.get("request_id") or None,
                    "minutes": clock.minutes if clock else None, "margin": clock.margin if clock else None,
                    "status": clock.status if clock else None})
    return out


def flag(args) -> int:
    conf = args.config_obj
    check, annotation = check_file(Path(args.file), conf, parse_now(args.now), args.annotate)
    statuses = row_statuses(check)
    counts = Counter(s["status"] for s in statuses if s["status"])
    if args.json:
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
        from xl_automation.rules.validate import CLOCK_WARNINGS
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


def show_config(args) -> int:
    conf = args.config_obj
    if args.json:
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


def build_templates(args) -> int:
    from xl_automation.xlsx.template import build_templates as build
    for path in build(Path(args.out), config=args.config_obj):
        print(f"已生成 {path}")
    return EXIT_OK


def build(args) -> int:
    from xl_automation.excel.build import build as build_all
    from xl_automation.excel.build_vba import BuildError
    try:
        written = build_all(Path(args.root), macros=args.macros)
    except BuildError as e:
        raise UsageError(f"构建失败：{e}") from None
    for path in written:
        print(f"已生成 {path}")
    return EXIT_OK


def demo(args) -> int:
    from xl_automation.demo.run import DemoStepFailed, run_demo
    try:
        return run_demo(Path(args.out), args.config_obj)
    except DemoStepFailed as e:
        print(str(e), file=sys.stderr)
        return EXIT_UNUSABLE
