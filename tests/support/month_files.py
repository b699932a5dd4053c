"""Ledgers made through the CLI and a month consolidated by it, as users run them."""
import json
from datetime import datetime
from pathlib import Path

from support.cli import run
from xl_automation.demo.sample import sample_rows
from xl_automation.model import config as cfg
from xl_automation.rules.periods import Period
from xl_automation.xlsx.fill import fill_ledger

CONF = cfg.load()
PERIOD = Period.parse("2026-11")


def make_ledger(folder: Path, code: str, now: datetime, *, mistakes=False, n=20, extra=()) -> Path:
    path = folder / f"{code}.xlsx"
    assert run("new-ledger", "--window", code, "--period", "2026-11", "--out", path).returncode == 0
    rows = sample_rows(CONF.window(code), PERIOD, CONF, n=n, now=now, mistakes=mistakes) + list(extra)
    fill_ledger(path, rows)
    return path


def consolidate_json(inbox, out, *extra):
    done = run("consolidate", inbox, "--period", "2026-11", "--out", out, "--json", "--now", "2026-11-25 10:00", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
