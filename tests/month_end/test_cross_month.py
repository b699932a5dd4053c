"""Exactly once across months, proven over generated worlds of three periods (real archive file, no xlsx)."""
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from support.archive_world import PERIODS, WINDOWS, sources, worlds
from xl_automation.model import config as cfg
from xl_automation.month_end.archive import open_archive
from xl_automation.month_end.collect import Collected
from xl_automation.rules.cross_month import role
from xl_automation.month_end.month_archive import consolidate_period
from support.archive_world import figures_only

CONF = cfg.load()
NOW = datetime(2027, 1, 10, 12)


def run_three(world, folder: Path):
    """Consolidate the three periods in order; a period with a resubmission is consolidated twice."""
    reports = []
    archive = open_archive(folder / "a.sqlite")
    try:
        for k, period in enumerate(PERIODS):
            runs = [False, True] if any(key[1] == k for key in world.resubmit_at) else [True]
            for resubmitted in runs:
                collected = Collected(sources(world, k, resubmitted=resubmitted))
                cons, info, _ = consolidate_period(collected, period, CONF, NOW, archive, figures_only)
            reports.append((cons, collected))
        runs_total = archive.conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        current = archive.conn.execute("SELECT count(*) FROM runs WHERE current = 1").fetchone()[0]
    finally:
        archive.close()
    return reports, runs_total, current


def rid(d) -> str:
    return d.values["request_id"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_every_request_received_once_carried_until_closed_and_dropped_listed(world):
    with tempfile.TemporaryDirectory() as tmp:
        reports, runs_total, current = run_three(world, Path(tmp))
    assert current == len(PERIODS)
    assert runs_total == len(PERIODS) + len({k for _, k in world.resubmit_at})
    # which requests reached the group at all: a submission in force held a row received before its period end
    reached = {r.values["request_id"] for k, (_, col) in enumerate(reports) for s in col.sources for r in s.rows
               if r.values["received_at"] < PERIODS[k].end}
    counted: dict[str, list[int]] = {}
    for k, (cons, _) in enumerate(reports):
        for d in cons.details:
            if role(d) != "carried":
                counted.setdefault(rid(d), []).append(k)
    assert set(counted) == reached
    assert {r: ks for r, ks in counted.items() if len(ks) != 1} == {}
    by_id = {r.rid: r for r in world.requests}
    for k in range(1, len(PERIODS)):
        cons, _ = reports[k]
        present = {rid(d): d for d in cons.details}
        dropped = {x.request_id for x in cons.dropped_open}
        before, _ = reports[k - 1]
        for d in before.details:
            req = by_id[rid(d)]
            still_open = d.values["result"] == "办理中"
            if not still_open or req.window != WINDOWS.index(d.window) or req.transfer_to is not None:
                continue
            if req.dropped_from is not None and req.dropped_from <= k:
                assert rid(d) in dropped, f"{rid(d)} dropped from period {k} but not listed as 未续报"
            elif req.closed is None or req.closed >= PERIODS[k].start:
                assert rid(d) in present and role(present[rid(d)]) == "carried", f"{rid(d)} not carried in {k}"
        for x in cons.dropped_open:
            req = by_id[x.request_id]
            assert req.dropped_from is not None and req.dropped_from <= k and x.window == WINDOWS[req.window]
            assert x.last_period < PERIODS[k].label
