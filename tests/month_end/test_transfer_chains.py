"""Transfer chains across months (real archive file, no xlsx): a request accepted by window A in one
period, passed through the liaison group to B, and from B to C in the next, is one request: received once,
carried once, owned by A."""
from datetime import datetime

from xl_automation.model import config as cfg
from xl_automation.rules.cross_month import role
from xl_automation.rules.periods import Period

from support.archive_world import figures_only, link_result, run_months as run, window_source as source
from support.rows import good_row

CONF = cfg.load()
NOW = datetime(2026, 12, 1, 10)
A, B, C = (w.code for w in CONF.windows[:3])
NAME = {w.code: w.name for w in CONF.windows[:3]}


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



def test_without_the_accepting_row_the_first_receipt_owns_a_chain_brought_in_late(tmp_path):
    """No accepting row anywhere: B received it on October 20th (still open), C on the 22nd (closed on the
    23rd, so it comes back as 补报 of its own). One 补报 request, B's, with B's receipt: the clock runs from
    the first receipt, as within a month."""
    b = good_row(request_id="X-1", channel="联络群转入", received_at=datetime(2026, 10, 20, 9),
                 replied_at=datetime(2026, 10, 20, 9, 30), result="办理中", closed_at=None)
    c = good_row(request_id="X-1", channel="联络群转入", received_at=datetime(2026, 10, 22, 9),
                 replied_at=datetime(2026, 10, 22, 9, 30), result="已办结", closed_at=datetime(2026, 10, 23, 9))
    (_, _, _), (nov, _, _) = run(tmp_path, [("2026-10", []), ("2026-11", [source(B, "11", b), source(C, "11", c)])])
    assert [(d.window, role(d), d.values["received_at"], d.handled_by) for d in nov.details] == [
        (B, "late_reported", datetime(2026, 10, 20, 9), (C,))]

# --- every chain, proven -------------------------------------------------------------------------------
from datetime import timedelta  # noqa: E402

from hypothesis import HealthCheck, example, given, settings, strategies as st  # noqa: E402

OCT, NOV, DEC = Period.parse("2026-10"), Period.parse("2026-11"), Period.parse("2026-12")


@st.composite
def chains(draw):
    """One request passed along 1–3 windows (the first accepts it, the others say 联络群转入), each link
    received on or after the one before, around the October/November edge or a month later; each link closes at some moment,
    says 已转办 once the next window has it, or stays open; which windows submit each month (on the 24th;
    October also "late": after its end, into November's folder)."""
    order = draw(st.permutations([A, B, C]))[:draw(st.integers(1, 3))]
    t = OCT.end + timedelta(minutes=draw(st.sampled_from([-60 * 24 * 5, -60 * 8, -90, -1, 0, 30, 60 * 24 * 3])))
    links = []
    for i, window in enumerate(order):
        if i:
            t += timedelta(minutes=draw(st.sampled_from([0, 20, 60 * 24 * 2, 60 * 24 * 31])))
        outcome = draw(st.sampled_from(["办理中", "已办结"] + (["已转办"] if i + 1 < len(order) else [])))
        closes = t + timedelta(hours=draw(st.sampled_from([1, 24 * 10, 24 * 40]))) if outcome == "已办结" else None
        links.append((window, t, outcome, closes))
    submits = {(w, k): draw(st.sampled_from([False, True] + (["late"] if k == 0 else []))) for w in (A, B, C)
               for k in (0, 1, 2)}
    return links, submits


def link_row(links, i: int, at: datetime):
    """Link i's row as it stands at moment `at`."""
    window, t, outcome, closes = links[i]
    result = link_result(links, i, at)
    nxt = links[i + 1][0] if i + 1 < len(links) else None
    # each link types the id its own way: the case of its letters does not make another request
    return good_row(request_id="x-1" if i % 2 else "X-1", channel="联络群转入" if i else "窗口现场", received_at=t,
                    replied_at=t + timedelta(minutes=30), result=result,
                    closed_at=closes if result == "已办结" else None,
                    transferred_to=NAME[nxt] if result == "已转办" else "")


def month_sources(links, submits, k: int, period: Period):
    """Each submitting window's ledger at its submission (the 24th, 17:00): its rows received by then (a
    running ledger: closed rows of earlier periods stay in it, the rules leave them out)."""
    at = period.end - timedelta(hours=7)
    return [source(window, period.label[-2:], *(link_row(links, i, at) for i, (w, t, _, _) in enumerate(links)
                                                  if w == window and t < at))
            for window in (A, B, C) if submits[(window, k)] is True]


def late_sources(links, submits):
    """October submitted after its end (the 26th, 09:00) into November's folder: its rows received in
    October or before, as they stand then."""
    at = OCT.end + timedelta(hours=33)
    out = []
    for window in (A, B, C):
        if submits[(window, 0)] == "late":
            src = source(window, "10late", *(link_row(links, i, at) for i, (w, t, _, _) in enumerate(links)
                                             if w == window and t < OCT.end))
            src.submitted_at, src.for_period = at, OCT.label
            out.append(src)
    return out


D = datetime
# found by this test: A accepted and B received it on October 24th; B closed it at 17:00 after submitting
# October (B counted it, open), A submitted nothing for October and reports it open in November: one
# 结转 request, not two
B_COUNTED_FIRST = ([(A, D(2026, 10, 24, 16), "办理中", None), (B, D(2026, 10, 24, 16), "已办结", D(2026, 10, 24, 17))],
                   {(A, 0): False, (A, 1): True, (B, 0): True, (B, 1): True, (C, 0): False, (C, 1): False,
                    (A, 2): False, (B, 2): False, (C, 2): False})
# nobody submitted October; in November A reports it open, B closed (before November began): one 补报
BOTH_LATE = ([(A, D(2026, 10, 20), "办理中", None), (B, D(2026, 10, 20), "已办结", D(2026, 10, 20, 1))],
             {(A, 0): False, (A, 1): True, (B, 0): False, (B, 1): True, (C, 0): False, (C, 1): False,
              (A, 2): False, (B, 2): False, (C, 2): False})

# A did not submit; C's row (received with B's) was counted open in October and closed that evening; B, who
# received it first, reports it in November only: one 结转 request
C_COUNTED_B_FIRST = ([(A, D(2026, 10, 24, 16), "已转办", None), (B, D(2026, 10, 24, 16), "办理中", None),
                      (C, D(2026, 10, 24, 16), "已办结", D(2026, 10, 24, 17))],
                     {(A, 0): False, (A, 1): False, (A, 2): False, (B, 0): False, (B, 1): True, (B, 2): False,
                      (C, 0): True, (C, 1): True, (C, 2): False})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(B_COUNTED_FIRST)
@example(BOTH_LATE)
@example(C_COUNTED_B_FIRST)
@given(chains())
def test_a_chain_is_received_once_and_listed_at_most_once_a_month(tmp_path_factory, chain):
    links, submits = chain
    print("chain:", [(w, f"{t:%m-%d %H:%M}", o, c and f"{c:%m-%d %H:%M}") for w, t, o, c in links],
          "submits:", sorted((k, v) for k, v in submits.items() if v))
    months = [(p.label, month_sources(links, submits, k, p)) for k, p in enumerate((OCT, NOV, DEC))]
    late = late_sources(links, submits)
    results = run(tmp_path_factory.mktemp("chain"), months, ([], late))
    received = [role(d) for cons, _, _ in results for d in cons.details if role(d) != "carried"]
    # a late October file is used when November has an earlier period in the archive (October is always run)
    reached = any(s.rows for _, srcs in months for s in srcs) or any(s.rows for s in late)
    assert len(received) == (1 if reached else 0), [(p, [(d.window, role(d)) for d in cons.details])
                                                    for (p, _), (cons, _, _) in zip(months, results)]
    for cons, _, report in results:
        assert len(cons.details) <= 1, [(d.window, role(d), d.handled_by) for d in cons.details]
        assert cons.dropped_open == []          # every window keeps every row: nothing is left out
        # an origin rebuilt from the archive is a request of 明细 no row of this month stands for
        assert cons.rows_in == len(cons.details) - cons.from_archive + cons.merged + len(cons.excluded)
        assert report.figures["group"]["received"] + report.figures["group"]["carried_over"] == len(cons.details)
