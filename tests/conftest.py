"""Fixtures that tests in more than one package use, in one place (helpers without fixtures are in tests/support/)."""
import os
import shutil
from datetime import datetime

import pytest

from support.cli import run
from support.month_files import CONF, PERIOD, make_ledger
from xl_automation.demo.sample import sample_rows
from xl_automation.xlsx.fill import fill_ledger


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    """A month folder: on time, late, resubmitted, missing windows, a plain ledger, a bad file, a transfer."""
    work = tmp_path_factory.mktemp("month")
    inbox = work / "inbox"
    now = datetime(2026, 11, 24, 10)
    a = make_ledger(work, "ZLS01", now)
    rid = "ZLS01-20261110-777"
    base = sample_rows(CONF.window("ZLS01"), PERIOD, CONF, n=1, now=now, mistakes=False)[0]
    give = dict(base, request_id=rid, received_at=datetime(2026, 11, 10, 9), posted_at=None, replied_at=None,
                result="已转办", transferred_to="张店分公司", closed_at=None, unresolved_reason="")
    take = dict(give, channel="联络群转入", received_at=datetime(2026, 11, 10, 9, 30), transferred_to="",
                replied_at=datetime(2026, 11, 10, 10, 30), result="已办结", closed_at=datetime(2026, 11, 11, 9))
    fill_ledger(a, [give])
    b = make_ledger(work, "ZLS02", now, extra=[take])
    c = make_ledger(work, "ZLS03", now)
    assert run("submit", a, "--to", inbox, "--now", "2026-11-24 09:00").returncode == 0
    assert run("submit", b, "--to", inbox, "--now", "2026-11-25 00:00").returncode == 0       # late: on the 25th
    assert run("submit", c, "--to", inbox, "--now", "2026-11-20 09:00").returncode == 1       # rows after that moment
    assert run("submit", c, "--to", inbox, "--now", "2026-11-24 10:00").returncode == 0
    shutil.copy(c, inbox / "ZLS03-again.xlsx")            # a plain ledger of the same window: newest wins
    stamp = datetime(2026, 11, 24, 12).timestamp()        # handed in when last saved
    os.utime(inbox / "ZLS03-again.xlsx", (stamp, stamp))
    (inbox / "坏文件.xlsx").write_bytes(b"not a workbook")
    (inbox / "~$ZLS01.xlsx").write_bytes(b"lock")
    (inbox / ".hidden.xlsx").write_bytes(b"x")
    return inbox
