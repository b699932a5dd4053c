"""The demo: a deterministic synthetic month for every window, through every step of the real commands
(the library functions the CLI calls; the transcript shows each as its command line)."""
from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from xl_automation.commands import ledger as L, month as M
from xl_automation.commands.edge import guarded, parse_now
from xl_automation.model.config import Config
from xl_automation.rules.periods import Period, due_day
from xl_automation.demo.sample import sample_rows

PERIOD = "2026-11"
FILL_NOW = datetime(2026, 11, 24, 15, 0)
REPORT_NOW = datetime(2026, 11, 25, 10, 0)
NEXT_PERIOD = "2026-12"            # the second month: 环比, 结转, 补报 and 未续报 against the first
NEXT_SUBMIT = "2026-12-24 10:00"
NEXT_REPORT_NOW = "2026-12-25 10:00"
LATE_WINDOW, BLANK_WINDOW = 1, 5   # one types a request in after submitting; one starts December blank
MARKER = ".xl-automation-demo"
ROWS_PER_WINDOW = 36
# window index -> submission times (a resubmission has two); None = never submits; "plain" = drops its ledger
SCHEDULE = {0: ["2026-11-23 16:00"], 1: ["2026-11-24 10:00"], 2: ["2026-11-20 17:00", "2026-11-24 11:00"],
            3: ["2026-11-24 09:00"], 4: ["2026-11-25 09:30"], 5: ["2026-11-24 14:00"], 6: "plain", 7: None}


class DemoStepFailed(Exception):
    """A demo step ended in a way the demo cannot go on from; the message is that step's own output."""


class _Log:
    """Runs each step through the commands' library functions (the ones the CLI calls), under the same error
    edge; the step's command line and full output go to a log file, a line per step to the screen."""

    def __init__(self, path: Path):
        self.path = path
        path.write_text("", encoding="utf-8")

    def run(self, argv: list[str], call: Callable[[], int]) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = guarded(call, json_output="--json" in argv)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(f"$ xl-automation {' '.join(argv)}\n{out.getvalue()}{err.getvalue()}(exit {code})\n\n")
        if code not in (0, 1):
            # exit 2 (unusable) or an interrupt: say the step and its own message, never a later symptom
            raise DemoStepFailed(f"演示步骤失败：xl-automation {' '.join(argv[:2])}（exit {code}）：{err.getvalue().strip()}")
        return code, out.getvalue()

    def run_json(self, argv: list[str], call: Callable[[], int]) -> tuple[int, dict]:
        code, text = self.run(argv, call)
        try:
            return code, json.loads(text)
        except ValueError:
            raise DemoStepFailed(f"演示步骤失败：xl-automation {' '.join(argv[:2])} 没有输出 JSON：{text.strip()[-300:]}")


class _Steps:
    """The demo's commands: each method writes the command line the transcript shows and calls the library
    function the CLI calls for that line, with the same values (tests/demo/test_demo_steps.py holds them equal)."""

    def __init__(self, log: _Log, config: Config):
        self.log, self.config = log, config

    def new_ledger(self, out: Path, *, window: str | None = None, period: str | None = None,
                   from_ledger: Path | None = None, submitted_in: Path | None = None) -> tuple[int, str]:
        argv = (["--window", window, "--period", period] if window else ["--from", str(from_ledger)])
        argv += ["--submitted-in", str(submitted_in)] if submitted_in else []
        return self.log.run(["new-ledger", *argv, "--out", str(out)],
                            lambda: L.new_ledger(self.config, out, window=window, period=period, from_ledger=from_ledger,
                                                 submitted_in=[submitted_in] if submitted_in else None))

    def _check(self, name: str, func, path: Path, now: str, annotate: bool, as_json: bool):
        argv = [name, str(path), *(["--annotate"] if annotate else []), "--now", now, *(["--json"] if as_json else [])]
        call = lambda: func(self.config, path, parse_now(now), annotate=annotate, json=as_json)  # noqa: E731
        return self.log.run_json(argv, call) if as_json else self.log.run(argv, call)

    def validate(self, path: Path, now: str, *, annotate: bool = False) -> tuple[int, dict]:
        return self._check("validate", L.validate, path, now, annotate, True)

    def flag(self, path: Path, now: str, *, annotate: bool = False) -> tuple[int, str]:
        return self._check("flag", L.flag, path, now, annotate, False)

    def submit(self, path: Path, to: Path, now: str) -> tuple[int, str]:
        return self.log.run(["submit", str(path), "--to", str(to), "--now", now],
                            lambda: M.submit(self.config, path, to, parse_now(now)))

    def consolidate(self, folder: Path, period: str, out: Path, now: str, *, pdf: bool = False) -> tuple[int, dict]:
        argv = ["consolidate", str(folder), "--period", period, "--out", str(out), "--json", "--now", now]
        return self.log.run_json(argv + (["--pdf"] if pdf else []),
                                 lambda: M.consolidate(self.config, folder, period, out, parse_now(now), json=True, pdf=pdf))

    def notice(self, folder: Path, period: str, now: str) -> tuple[int, str]:
        return self.log.run(["notice", str(folder), "--period", period, "--now", now],
                            lambda: M.notice(self.config, folder, period, parse_now(now)))


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise SystemExit(f"{out} 已存在且不是演示目录，为避免覆盖，请换一个 --out 目录")
    for sub in ("台账", "报送", "报表"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("xl-automation demo output\n", encoding="utf-8")


def _cutoff(plan) -> datetime:
    """The moment a window's ledger is complete to: its last submission, or the fill time."""
    return datetime.fromisoformat(plan[-1]) if isinstance(plan, list) else FILL_NOW


def _month(config: Config, period: Period) -> dict[str, list[dict]]:
    """Rows per window, with transfers between windows, a cross-window duplicate and carried-over rows."""
    rng = random.Random(20261125)
    cutoff = {w.code: _cutoff(SCHEDULE.get(i, [])) for i, w in enumerate(config.windows)}
    rows = {w.code: sample_rows(w, period, config, n=ROWS_PER_WINDOW, seed=7, now=cutoff[w.code], mistakes=False)
            for w in config.windows}
    codes = [w.code for w in config.windows]
    for giver, taker in ((codes[0], codes[1]), (codes[3], codes[5])):
        limit = min(cutoff[giver], cutoff[taker]) - timedelta(days=2)
        src = rng.choice([r for r in rows[giver] if r["result"] == "已办结" and r["received_at"] < limit])
        target = config.window(taker)
        src.update(result="已转办", transferred_to=target.name, closed_at=None)
        received = src["received_at"] + timedelta(minutes=20)
        copy = dict(src, channel="联络群转入", received_at=received, posted_at=None, transferred_to="",
                    replied_at=received + timedelta(minutes=35), result="已办结",
                    closed_at=received + timedelta(days=1), first_responder="王敏")
        rows[taker].append(copy)
    dup_from = next(r for r in rows[codes[4]] if r["received_at"] + timedelta(days=1) < cutoff[codes[3]]
                    and r["result"] == "已办结")
    twin = dict(dup_from, request_id=f"{codes[3]}-{dup_from['received_at']:%Y%m%d}-901", channel="电话",
                received_at=dup_from["received_at"] + timedelta(days=1),
                posted_at=None, replied_at=dup_from["received_at"] + timedelta(days=1, minutes=50),
                closed_at=None, result="办理中")
    rows[codes[3]].append(twin)
    for code, hours in ((codes[1], 3), (codes[4], 1)):   # still waiting for a call back when submitted
        base = rows[code][-1]
        received = (cutoff[code] - timedelta(hours=hours)).replace(second=0)
        rows[code].append(dict(base, request_id=f"{code}-{received:%Y%m%d}-950", received_at=received,
                               posted_at=received + timedelta(minutes=5), replied_at=None, result="办理中",
                               closed_at=None, transferred_to="", unresolved_reason="", phone="13953300950"))
    earlier = period.start - timedelta(days=6)
    for i, (result, extra) in enumerate((("办理中", {"unresolved_reason": "等待联合踏勘"}),
                                         ("已办结", {"closed_at": earlier + timedelta(days=2)}))):
        old = dict(rows[codes[6]][0], request_id=f"{codes[6]}-{earlier:%Y%m%d}-{i + 1:03d}",
                   received_at=earlier + timedelta(hours=i), posted_at=None,
                   replied_at=earlier + timedelta(hours=i, minutes=40), result=result, closed_at=None,
                   unresolved_reason="")
        old.update(extra)
        rows[codes[6]].insert(0, old)
    for code in codes:
        rows[code].sort(key=lambda r: r["received_at"])
    return rows


def _batches(rows: list[dict], plan) -> list[tuple[str, list[dict]]]:
    """(submission time, rows typed in before it) per submission; a resubmission adds the later rows."""
    if not isinstance(plan, list):
        return [(FILL_NOW.strftime("%Y-%m-%d %H:%M"), rows)]
    out, done = [], 0
    for when in plan:
        t = datetime.fromisoformat(when)
        upto = [r for r in rows[done:] if r["received_at"] <= t and all(
            not isinstance(r.get(k), datetime) or r[k] <= t for k in ("replied_at", "closed_at", "posted_at"))]
        if when == plan[-1]:
            upto = rows[done:]
        out.append((when, upto))
        done += len(upto)
    return out


def run_demo(out: Path, config: Config) -> int:
    from xl_automation.xlsx.fill import fill_ledger
    from xl_automation.demo.sample import inject_mistakes
    period = Period.parse(PERIOD, config.policy["period_start_day"])
    _prepare(out)
    ledgers, inbox, reports = out / "台账", out / "报送" / PERIOD, out / "报表"
    for d in (ledgers, inbox, reports):
        d.mkdir(parents=True, exist_ok=True)
    log = _Log(out / "运行记录.txt")
    steps = _Steps(log, config)
    print(f"演示：{config.data['group']['name']} {PERIOD} 统计周期（{period.describe()}），{len(config.windows)} 个窗口")
    now = FILL_NOW.strftime("%Y-%m-%d %H:%M")

    # a clerk's first draft, with the usual slips, to show what validation writes back
    w0 = config.windows[1]
    draft = ledgers / f"示例-校验前草稿-{w0.name}-{PERIOD}.xlsx"
    steps.new_ledger(draft, window=w0.code, period=PERIOD)
    draft_rows = sample_rows(w0, period, config, n=ROWS_PER_WINDOW, seed=7, now=FILL_NOW, mistakes=False)
    inject_mistakes(random.Random(3), draft_rows)
    fill_ledger(draft, draft_rows)
    code, result = steps.validate(draft, now, annotate=True)
    print(f"  校验示例 {draft.name}：错误 {result['errors']} 条、提醒 {result['warnings']} 条，已写回标注（exit {code}）")

    month = _month(config, period)
    for i, window in enumerate(config.windows):
        plan = SCHEDULE.get(i, [now])
        path = ledgers / f"{window.code}-{window.name}-{PERIOD}.xlsx"
        steps.new_ledger(path, window=window.code, period=PERIOD)
        for when, batch in _batches(month[window.code], plan):
            fill_ledger(path, batch)
            v_code, v = steps.validate(path, when)
            steps.flag(path, when, annotate=True)
            line = f"  {window.code} {window.name}：{v['rows']} 行，错误 {v['errors']}，提醒 {v['warnings']}"
            if plan is None:
                print(line + "；未报送")
            elif plan == "plain":
                shutil.copy2(path, inbox / path.name)
                stamp = FILL_NOW.timestamp()   # a plain ledger counts as handed in when it was last saved
                os.utime(inbox / path.name, (stamp, stamp))
                print(line + "；没有运行报送命令，直接把台账放进了报送目录")
            else:
                s_code, _ = steps.submit(path, inbox, when)
                late = "（逾期）" if datetime.fromisoformat(when).date() >= period.due_date(due_day(config.policy)) else ""
                again = "（重新报送）" if when != plan[0] else ""
                print(line + (f"；{when} 报送{again}{late}" if s_code == 0 else f"；报送被拒绝（exit {s_code}），见运行记录"))
    (inbox / "南定分公司-旧版台账.xlsx").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    print("  另有一个损坏的文件放进了报送目录：南定分公司-旧版台账.xlsx")

    report = reports / f"综合受理月报-{PERIOD}.xlsx"
    from xl_automation.report.pdf import soffice
    c_code, summary = steps.consolidate(inbox, PERIOD, report, REPORT_NOW.strftime("%Y-%m-%d %H:%M"), pdf=bool(soffice()))
    (reports / f"汇总结果-{PERIOD}.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    n_code, notice = steps.notice(inbox, PERIOD, REPORT_NOW.strftime("%Y-%m-%d %H:%M"))
    (reports / f"联络群提醒-{PERIOD}.txt").write_text(notice, encoding="utf-8")
    rate = summary["on_time_rate"]
    print(f"汇总：读入 {summary['rows_in']} 行 = 明细 {summary['rows_in_details']} + 转办合并 {summary['rows_merged']}"
          f" + 不计入本期 {summary['rows_excluded']}；本期受理 {summary['received']} 件，往期结转 {summary['carried_over']} 件；"
          f"超时 {summary['overdue']} 件；按时率 {rate:.1%}")
    print(f"  未报送：{'、'.join(summary['windows_missing']) or '无'}；逾期：{'、'.join(summary['windows_late']) or '无'}；"
          f"未能读取：{'、'.join(r['file'] for r in summary['files_rejected']) or '无'}")
    print("联络群提醒：")
    print("  " + notice.strip().replace("\n", "\n  "))
    print(f"报表：{report.resolve()}")
    print(f"通报：{Path(summary['bulletin']).resolve()}")
    if summary.get("pdf"):
        print(f"通报 PDF：{Path(summary['pdf']).resolve()}")
    _next_month(out, config, steps, ledgers, reports)
    print(f"每一步的完整输出：{log.path.resolve()}")
    return 0


def _next_month(out: Path, config: Config, steps: _Steps, ledgers: Path, reports: Path) -> None:
    """December: ledgers started from November's (--from), one blank; a request typed into a November
    ledger after its submission reaches the group as 补报; the blank one's open requests become 未续报."""
    from xl_automation.xlsx.fill import fill_ledger
    period = Period.parse(NEXT_PERIOD, config.policy["period_start_day"])
    inbox = out / "报送" / NEXT_PERIOD
    late_window = config.windows[LATE_WINDOW]
    nov_ledger = ledgers / f"{late_window.code}-{late_window.name}-{PERIOD}.xlsx"
    evening = datetime(2026, 11, 24, 20, 10)
    base = sample_rows(late_window, Period.parse(PERIOD), config, n=1, seed=9, now=FILL_NOW, mistakes=False)[0]
    fill_ledger(nov_ledger, [dict(base, request_id=f"{late_window.code}-20261124-960", received_at=evening,
                                  posted_at=evening + timedelta(minutes=5), replied_at=evening + timedelta(minutes=40),
                                  result="已办结", closed_at=evening + timedelta(hours=2), transferred_to="",
                                  unresolved_reason="")])
    print(f"\n演示第二个月：{NEXT_PERIOD} 统计周期（{period.describe()}）；{late_window.name} 在 11月24日 报送后"
          f"又登记了一条（20:10 受理）")
    for i, window in enumerate(config.windows):
        last = ledgers / f"{window.code}-{window.name}-{PERIOD}.xlsx"
        path = ledgers / f"{window.code}-{window.name}-{NEXT_PERIOD}.xlsx"
        if i == BLANK_WINDOW:
            steps.new_ledger(path, window=window.code, period=NEXT_PERIOD)
            how = "新建空白台账，未带入上月未办结的需求"
        else:
            _, text = steps.new_ledger(path, from_ledger=last, submitted_in=out / "报送")
            how = text.strip().splitlines()[-1].strip()
        fill_ledger(path, sample_rows(window, period, config, n=ROWS_PER_WINDOW, seed=8,
                                      now=datetime.fromisoformat(NEXT_SUBMIT), mistakes=False))
        s_code, _ = steps.submit(path, inbox, NEXT_SUBMIT)
        print(f"  {window.code} {window.name}：{how}；{NEXT_SUBMIT} 报送" + ("" if s_code == 0 else f"被拒绝（exit {s_code}）"))
    report = reports / f"综合受理月报-{NEXT_PERIOD}.xlsx"
    _, summary = steps.consolidate(inbox, NEXT_PERIOD, report, NEXT_REPORT_NOW)
    (reports / f"汇总结果-{NEXT_PERIOD}.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2),
                                                       encoding="utf-8")
    _, notice = steps.notice(inbox, NEXT_PERIOD, NEXT_REPORT_NOW)
    (reports / f"联络群提醒-{NEXT_PERIOD}.txt").write_text(notice, encoding="utf-8")
    carried = sum(w.get("carried_over") or 0 for w in summary["windows"])
    received = sum(w.get("received") or 0 for w in summary["windows"])
    print(f"汇总 {NEXT_PERIOD}：本期受理 {received} 件（其中补报 {len(summary['late_reported'])} 件："
          f"{'、'.join(x['request_id'] for x in summary['late_reported']) or '无'}），往期结转 {carried} 件，"
          f"未续报 {len(summary['dropped_open'])} 件；归档：{summary['archive']['path']}")
    print("  上期、环比与本年累计见“汇总”表下方；补报、结转、未续报见“跨月核对”表；最近各期走势见“趋势”表")
    print(f"报表：{report.resolve()}")
