"""Two months of submissions for three windows, each cross-month rule once, and the CLI's consolidate over them."""
import json
import os
from datetime import datetime
from pathlib import Path

from support.archive_world import row_values
from support.cli import run
from xl_automation.model import labels
from xl_automation.xlsx.values_ledger import write_values_ledger

NOW = "2026-12-26 09:00"


def ledger(folder: Path, code: str, period: str, rows, at: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}_{period}.xlsx"
    write_values_ledger(path, rows, {labels.INFO_WINDOW_CODE: code, labels.INFO_PERIOD: period})
    os.utime(path, (at.timestamp(), at.timestamp()))
    return path


def two_months(root: Path) -> Path:
    """November and December for three windows, with one case of each cross-month rule.
    ZLS01: A1 open (carried), A2 closed in Nov, A3 received on the 24th evening after the on-time submission
    (补报 in December), A4 new in December. ZLS02: B1 open in November, left out in December (未续报);
    B2 received 11-24 16:00. ZLS03: B2 registered as 联络群转入 at 11-25 00:10 (merged with its origin)."""
    inbox = root / "报送"
    nov_sub, dec_sub = datetime(2026, 11, 24, 17), datetime(2026, 12, 24, 10)
    r = lambda rid, got, closed, at, ch="窗口现场", n=0: row_values(rid[:5], rid, got, closed, at, ch, n)  # noqa
    a1 = ("ZLS01-20261110-001", datetime(2026, 11, 10, 9), None)
    a2 = ("ZLS01-20261112-002", datetime(2026, 11, 12, 9), datetime(2026, 11, 13, 9))
    a3 = ("ZLS01-20261124-003", datetime(2026, 11, 24, 20), datetime(2026, 11, 24, 22))
    a4 = ("ZLS01-20261201-004", datetime(2026, 12, 1, 9), None)
    b1 = ("ZLS02-20261105-001", datetime(2026, 11, 5, 9), None)
    b2 = ("ZLS02-20261124-002", datetime(2026, 11, 24, 16), datetime(2026, 11, 24, 18))
    ledger(inbox / "2026-11", "ZLS01", "2026-11", [r(*a1, nov_sub, n=1), r(*a2, nov_sub, n=2)], nov_sub)
    ledger(inbox / "2026-11", "ZLS02", "2026-11", [r(*b1, nov_sub, n=3), r(*b2, nov_sub, n=4)], nov_sub)
    ledger(inbox / "2026-11", "ZLS03", "2026-11", [], nov_sub)
    ledger(inbox / "2026-12", "ZLS01", "2026-12", [r(*a, dec_sub, n=i) for i, a in enumerate((a1, a2, a3, a4), 1)],
           dec_sub)
    ledger(inbox / "2026-12", "ZLS02", "2026-12", [r(*b2, dec_sub, n=4)], dec_sub)
    moved = (b2[0], datetime(2026, 11, 25, 0, 10), b2[2])
    ledger(inbox / "2026-12", "ZLS03", "2026-12", [r(*moved, dec_sub, ch="联络群转入", n=4)], dec_sub)
    return inbox


def consolidate(inbox: Path, period: str, *extra):
    done = run("consolidate", inbox / period, "--period", period, "--out", inbox.parent / f"月报-{period}.xlsx",
               "--json", "--now", NOW, *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
