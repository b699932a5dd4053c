"""Transfer chains across months (real archive file, no xlsx): a request accepted by window A in one
period, passed through the liaison group to B, and from B to C in the next, is one request: received once,
carried once, owned by A."""
from datetime import datetime
from pathlib import Path

from xl_automation.model import config as cfg
from xl_automation.model.ledger import LedgerRow
from xl_automation.month_end.archive import open_archive
from xl_automation.month_end.collect import Collected
from xl_automation.month_end.month_archive import consolidate_period
from xl_automation.rules.consolidate import Source
from xl_automation.rules.cross_month import role
from xl_automation.rules.periods import Period

from support.archive_world import figures_only
from support.rows import good_row

CONF = cfg.load()
NOW = datetime(2026, 12, 1, 10)
A, B, C = (w.code for w in CONF.windows[:3])
NAME = {w.code: w.name for w in CONF.windows[:3]}


def source(window: str, period: str, *rows) -> Source:
    return Source(window, Path(f"{window}-{period}.xlsx"), f"{window}{period}".ljust(64, "0"),
                  [LedgerRow(4 + i, dict(r)) for i, r in enumerate(rows)], "submission", datetime(2026, 11, 24, 17))


def run(tmp_path: Path, months: list[tuple[str, list[Source]]]):
    archive = open_archive(tmp_path / "a.sqlite")
    try:
        return [consolidate_period(Collected(srcs), Period.parse(p), CONF, NOW, archive, figures_only)
                for p, srcs in months]
    finally:
        archive.close()


def chain_rows(b_result: str):
    accepted = good_row(request_id="X-1", received_at=datetime(2026, 10, 20, 9), replied_at=datetime(2026, 10, 20, 9, 30),
                        result="已转办", transferred_to=NAME[B], closed_at=None)
    b_oct = good_row(request_id="X-1", channel="联络群转入", received_at=datetime(2026, 10, 20, 10), replied_at=None,
                     result="办理中", closed_at=None)
    b_nov = dict(b_oct, result=b_result, transferred_to=NAME[C] if b_result == "已转办" else "")
    c_nov = good_row(request_id="X-1", channel="联络群转入", received_at=datetime(2026, 11, 3, 10),
                     replied_at=datetime(2026, 11, 3, 10, 30), result="已办结", closed_at=datetime(2026, 11, 4, 9))
    return accepted, b_oct, b_nov, c_nov


def test_a_chain_continued_next_month_is_carried_once_under_its_acceptor(tmp_path):
    """B still writes 办理中 on the row it passed on to C: B's and C's rows (merged within November, no
    accepting row there) are the request A accepted in October. It used to come out as two 结转 rows."""
    for b_result in ("办理中", "已转办"):
        accepted, b_oct, b_nov, c_nov = chain_rows(b_result)
        folder = tmp_path / b_result
        folder.mkdir()
        (oct_, _, _), (nov, _, report) = run(folder, [
            ("2026-10", [source(A, "10", accepted), source(B, "10", b_oct)]),
            ("2026-11", [source(A, "11", accepted), source(B, "11", b_nov), source(C, "11", c_nov)])])
        assert [(d.window, role(d)) for d in oct_.details] == [(A, "received")]
        assert [(d.window, role(d)) for d in nov.details] == [(A, "carried")], b_result
        (d,) = nov.details
        assert C in d.handled_by
        assert report.figures["group"]["carried_over"] == 1 and report.figures["group"]["received"] == 0
        assert nov.rows_in == len(nov.details) + nov.merged + len(nov.excluded)
        assert all(f["rows_in"] == f["details"] + f["merged"] + f["excluded"] for f in nov.fate.values())
        assert nov.dropped_open == []
