"""One ledger checked as the command line and the buttons check it: read (isolated), validate, clock,
and write the findings back when asked."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from xl_automation.model.config import Config


def check_file(path: Path, conf: Config, now: datetime, annotate: bool):
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
