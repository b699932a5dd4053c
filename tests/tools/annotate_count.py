"""How the corpus fares under `validate --annotate` (not a test): each workbook gets a grafted ledger sheet,
is annotated twice by the code at --code (default: this checkout), and is judged as test_annotate_patch
judges it. Compare two versions, e.g. main exported with `git archive main xl_automation | tar -x -C DIR`:

    python tests/tools/annotate_count.py OUTDIR [--code DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.grafting import graft  # noqa: E402
from support.patch_check import CORPUS_FILES, HOSTS, check_patch, graftable  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--code", default=str(Path(__file__).resolve().parents[2]))
    args = parser.parse_args()
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    def run(path: Path) -> subprocess.CompletedProcess:
        # cwd outside any checkout: python -m would import the package from the working directory first
        return subprocess.run([sys.executable, "-m", "xl_automation", "validate", str(path), "--annotate", "--json",
                               "--now", "2026-11-20 12:00"], capture_output=True, text=True, timeout=120, cwd=out,
                              env={**os.environ, "PYTHONPATH": args.code})

    hosts = [p for p in CORPUS_FILES if graftable(p)]
    for name, build in HOSTS.items():
        folder = out / f"host-{name}"
        folder.mkdir()
        hosts.append(build(folder))
    stats: dict[str, int] = {}
    for host in hosts:
        grafted = graft(host, out / f"{host.parent.name}__{host.name}")
        before = out / f"before-{grafted.name}"
        shutil.copy(grafted, before)
        detail = ""
        try:
            done = run(grafted)
        except subprocess.TimeoutExpired:
            kind = "timeout > 120 s"
        else:
            if done.returncode == 2:
                kind = "internal error" if "内部错误" in done.stderr else "refused"
                detail = done.stderr.strip()[-160:]
            elif done.returncode not in (0, 1):
                kind = "crashed"
            elif grafted.with_name(f"{grafted.stem}.校验标注{grafted.suffix}").exists():
                kind = "copy"
            else:
                problems = check_patch(before, grafted, json.loads(done.stdout)["findings"])
                first = grafted.read_bytes()
                run(grafted)
                kind = ("in place, damaged" if problems else
                        "in place, second run differs" if grafted.read_bytes() != first else "in place, clean")
                detail = "; ".join(problems[:3])
        stats[kind] = stats.get(kind, 0) + 1
        print(f"{kind} | {host.parent.name}/{host.name} | {detail}", flush=True)
    print(json.dumps(stats, ensure_ascii=False))


if __name__ == "__main__":
    main()
