"""Speed work must not change a result: run the demo on a git revision and on this tree, compare.

usage: python bench/compare_demo.py [REV]   (default main)
Compares every command's output in 运行记录.txt (the JSON summaries and findings, with the output
folder's path made neutral) and the cell values of every workbook the demo wrote (ledgers, annotated
copies, submissions, the group report). Prints the first differences; exit 0 when identical.
File digests (SHA-256) are compared as present, not by value: the demo's plain ledger is saved by
openpyxl, which stamps the current time into the file, so its digest differs from run to run.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import python_calamine

ROOT = Path(__file__).resolve().parents[1]
MAX_SHOWN = 20
_DIGEST = re.compile(r"\b[0-9a-f]{64}\b")


def run_demo(source: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("XL_AUTOMATION_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "xl_automation", "demo", "--out", str(out)], cwd=source,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"演示在 {source} 上失败（exit {done.returncode}）：{done.stderr.strip()[-800:]}")


def export(rev: str, into: Path) -> None:
    done = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"{rev} 不是这个仓库中的 git 修订：{done.stderr.decode(errors='replace').strip()}")
    data = done.stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")


def workbook_values(path: Path) -> dict[str, list[list]]:
    with python_calamine.CalamineWorkbook.from_path(str(path)) as wb:
        return {name: [[_neutral(v) for v in line]
                       for line in wb.get_sheet_by_name(name).to_python(skip_empty_area=False)]
                for name in wb.sheet_names}


def _neutral(value):
    return _DIGEST.sub("<sha256>", value) if isinstance(value, str) else value


def differences(base: Path, ours: Path) -> list[str]:
    out: list[str] = []
    log_a = _neutral((base / "运行记录.txt").read_text(encoding="utf-8").replace(str(base), "<OUT>"))
    log_b = _neutral((ours / "运行记录.txt").read_text(encoding="utf-8").replace(str(ours), "<OUT>"))
    for n, (a, b) in enumerate(zip(log_a.splitlines(), log_b.splitlines()), start=1):
        if a != b:
            out.append(f"运行记录.txt 第 {n} 行：\n  基准：{a}\n  本树：{b}")
    if len(log_a.splitlines()) != len(log_b.splitlines()):
        out.append(f"运行记录.txt 行数不同：{len(log_a.splitlines())} ≠ {len(log_b.splitlines())}")
    books_a = {p.relative_to(base) for p in base.rglob("*.xls[xm]")}
    books_b = {p.relative_to(ours) for p in ours.rglob("*.xls[xm]")}
    out += [f"只在基准中：{p}" for p in sorted(books_a - books_b)]
    out += [f"只在本树中：{p}" for p in sorted(books_b - books_a)]
    for rel in sorted(books_a & books_b):
        try:
            a, b = workbook_values(base / rel), workbook_values(ours / rel)
        except python_calamine.CalamineError:
            continue   # the demo's deliberately damaged file
        if list(a) != list(b):
            out.append(f"{rel}：工作表不同 {list(a)} ≠ {list(b)}")
        for sheet in a.keys() & b.keys():
            if a[sheet] != b[sheet]:
                cells = [(r, c, x, y) for r, (ra, rb) in enumerate(zip(a[sheet], b[sheet]))
                         for c, (x, y) in enumerate(zip(ra, rb)) if x != y]
                first = cells[0] if cells else "行数或列数不同"
                out.append(f"{rel} › {sheet}：{len(cells)} 个单元格不同，如 {first}")
    return out


def main() -> int:
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        return 0
    rev = sys.argv[1] if len(sys.argv) > 1 else "main"
    with tempfile.TemporaryDirectory(prefix="xl_compare_") as tmp:
        tmp = Path(tmp)
        export(rev, tmp / "src")
        run_demo(tmp / "src", tmp / "base")
        run_demo(ROOT, tmp / "ours")
        found = differences(tmp / "base", tmp / "ours")
        books = len(list((tmp / "ours").rglob("*.xls[xm]")))
    if found:
        print(f"与 {rev} 的演示结果不同（{len(found)} 处）：")
        print("\n".join(found[:MAX_SHOWN]))
        return 1
    print(f"与 {rev} 的演示结果相同：运行记录（全部 JSON 摘要和问题清单）与 {books} 个工作簿的全部单元格值一致")
    return 0


if __name__ == "__main__":
    sys.exit(main())
