"""Run the CLI over a whole collection of spreadsheets and tabulate what happened to each file.

    python tests/tools/corpus_run.py DIR [--jobs 2] [--submit-every 10] [--out corpus-results.tsv]

Every .xls/.xlsx/.xlsm/.xlsb/.ods/.csv file under DIR goes through `validate --json` (and every n-th
through `submit`) as a separate process, as users run it; then `consolidate` reads DIR as one
submissions folder. A file passes when its process ends with exit 0, 1 or 2 and no traceback, native
panic or signal. The table lists exit codes, finding codes, the slowest files and the main processes'
peak memory; the TSV has one line per file. Exit status 1 when any file failed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEAK_CLI = ROOT / "tests" / "support" / "peak_cli.py"
SUFFIXES = {".xls", ".xlsx", ".xlsm", ".xlsb", ".ods", ".csv"}
NOW = "2026-11-25 10:00"


def run(args: list[str], tmp: Path) -> dict:
    peak = tmp / f"{uuid.uuid4().hex}.peak"
    t = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(PEAK_CLI), *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=900, env={**os.environ, "PEAK_FILE": str(peak)})
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired:
        code, out, err = "timeout", "", ""
    seconds = time.perf_counter() - t
    mb = int(peak.read_text()) / 1024 if peak.exists() else None
    bad = code not in (0, 1, 2) or any(w in out + err for w in ("Traceback", "panicked", "stack backtrace"))
    finding = ""
    if code == 2 and out.strip().startswith("{"):
        try:
            finding = json.loads(out).get("error", {}).get("code", "")
        except ValueError:
            pass
    return {"code": code, "seconds": seconds, "peak_mb": mb, "failed": bad, "finding": finding,
            "message": (err.strip().splitlines() or [""])[-1][:200]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--submit-every", type=int, default=10, help="submit every n-th file too (0: never)")
    ap.add_argument("--out", type=Path, default=Path("corpus-results.tsv"))
    a = ap.parse_args()
    files = sorted(p for p in a.dir.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        print(f"{a.dir} 下没有表格文件", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="corpus_run_") as t:
        tmp = Path(t)
        jobs = [("validate", p, ["validate", str(p), "--json", "--now", NOW]) for p in files]
        if a.submit_every:
            jobs += [("submit", p, ["submit", str(p), "--to", str(tmp / "inbox"), "--period", "2026-11",
                                    "--now", NOW]) for p in files[::a.submit_every]]
        started = time.perf_counter()
        with ThreadPoolExecutor(a.jobs) as pool:
            results = list(pool.map(lambda job: (job[0], job[1], run(job[2], tmp)), jobs))
        results.append(("consolidate", a.dir, run(["consolidate", str(a.dir), "--period", "2026-11", "--out",
                                                   str(tmp / "report.xlsx"), "--json", "--now", NOW], tmp)))
        total = time.perf_counter() - started
    with a.out.open("w", encoding="utf-8") as f:
        f.write("command\tfile\texit\tfinding\tseconds\tpeak_mb\tfailed\tmessage\n")
        for cmd, path, r in results:
            f.write(f"{cmd}\t{path}\t{r['code']}\t{r['finding']}\t{r['seconds']:.2f}\t{r['peak_mb'] or ''}\t"
                    f"{int(r['failed'])}\t{r['message']}\n")
    failed = [(cmd, path, r) for cmd, path, r in results if r["failed"]]
    print(f"{len(files)} 个文件，{len(results)} 次运行，共 {total:.0f} s；明细：{a.out}")
    for cmd in ("validate", "submit", "consolidate"):
        rs = [r for c, _, r in results if c == cmd]
        if rs:
            exits = Counter(str(r["code"]) for r in rs)
            peaks = [r["peak_mb"] for r in rs if r["peak_mb"]]
            print(f"  {cmd}: 退出码 " + "，".join(f"{k}: {v}" for k, v in sorted(exits.items())) +
                  (f"；主进程峰值内存最高 {max(peaks):.0f} MB" if peaks else ""))
    findings = Counter(r["finding"] for c, _, r in results if c == "validate" and r["finding"])
    print("  validate 拒绝原因：" + "，".join(f"{k} {v}" for k, v in findings.most_common()))
    slow = sorted(((r["seconds"], p) for c, p, r in results if c == "validate"), reverse=True)[:5]
    print("  最慢：" + "；".join(f"{p.name} {s:.1f} s" for s, p in slow))
    for cmd, path, r in failed:
        print(f"  失败：{cmd} {path}：退出 {r['code']}：{r['message']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
