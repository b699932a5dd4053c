"""Output read by a program that stops early (`xl-automation validate 台账.xlsx | head`, or quitting `more`):
no internal-error line asking to send the file to the maintainers; the work done before printing stands."""
from __future__ import annotations

import os
import subprocess
import sys

from support.ledger_files import sample_rows, write_ledger
from support.paths import ROOT


def run_into_closed_pipe(*args, cwd):
    read, write = os.pipe()
    os.close(read)                                       # the reader is gone before the first line
    try:
        return subprocess.run([sys.executable, "-m", "xl_automation", *map(str, args)], stdout=write,
                              stderr=subprocess.PIPE, text=True, cwd=cwd or ROOT, timeout=300)
    finally:
        os.close(write)


def test_a_reader_that_went_away_is_not_an_internal_error(tmp_path):
    rows = sample_rows(3)
    rows[1]["received_at"] = "不是时间"
    path = write_ledger(tmp_path / "台账.xlsx", rows)
    before = path.read_bytes()
    for args in (("config",), ("validate", path, "--now", "2026-11-20 12:00")):
        done = run_into_closed_pipe(*args, cwd=tmp_path)
        assert "内部错误" not in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 141 and done.stderr == "", (args, done.returncode, done.stderr)
    assert path.read_bytes() == before
    done = run_into_closed_pipe("validate", path, "--annotate", "--now", "2026-11-20 12:00", cwd=tmp_path)
    assert done.returncode == 141 and done.stderr == ""
    assert path.read_bytes() != before                  # annotated before the first line was printed
    again = subprocess.run([sys.executable, "-m", "xl_automation", "validate", str(path), "--now", "2026-11-20 12:00"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert again.returncode == 1 and "内部错误" not in again.stderr
