"""Over-merging across months (real archive file, no xlsx): two different requests that share a 受理编号 (a
number reused, two windows' numbering collided, typed in another letter case) must never become one. Each
request passes along its own windows (the first accepts it, the next says 联络群转入), with its own applicant
and phone; nothing on one request's rows points at a window of the other, so no rule of the README ("the
same phone or applicant, or the accepting row says 已转办 to that window") makes them one. Every request
that reaches the group is received once, and no request of the report holds rows of the other."""
from datetime import datetime, timedelta

from hypothesis import HealthCheck, example, given, settings, strategies as st

from xl_automation.model import config as cfg
from xl_automation.rules.cross_month import role
from xl_automation.rules.periods import Period

from support.archive_world import link_result, run_months as run, window_source as source
from support.rows import good_row

CONF = cfg.load()
A, B, C, D4 = (w.code for w in CONF.windows[:4])
NAME = {w.code: w.name for w in CONF.windows[:4]}
OCT, NOV, DEC = Period.parse("2026-10"), Period.parse("2026-11"), Period.parse("2026-12")
PEOPLE = [("张三", "13800000001"), ("李四", "13900000002")]


@st.composite
def two_requests(draw):
    """Two requests, each on its own windows (1–2 links), received apart around the October/November edge."""
    order = draw(st.permutations([A, B, C, D4]))
    requests = []
    for n, windows in enumerate((order[:2], order[2:])):
        windows = windows[:draw(st.integers(1, 2))]
        t = OCT.end + timedelta(minutes=draw(st.sampled_from([-60 * 24 * 25, -60 * 24 * 5, -90, 0, 60 * 24 * 3,
                                                               60 * 24 * 20])))
        links = []
        for i, window in enumerate(windows):
            if i:
                t += timedelta(minutes=draw(st.sampled_from([20, 60 * 24 * 2, 60 * 24 * 31])))
            outcome = draw(st.sampled_from(["办理中", "已办结"] + (["已转办"] if i + 1 < len(windows) else [])))
            closes = t + timedelta(hours=draw(st.sampled_from([1, 24 * 10, 24 * 40]))) if outcome == "已办结" else None
            links.append((window, t, outcome, closes))
        requests.append(links)
    ids = draw(st.sampled_from([("X-1", "X-1"), ("X-1", "x-1"), ("x-1", " X-1")]))
    submits = {(w, k): draw(st.sampled_from([False, True, True] + (["late"] if k == 0 else [])))
               for w in (A, B, C, D4) for k in (0, 1, 2)}
    return requests, ids, submits


def link_row(links, n: int, rid: str, i: int, at: datetime):
    """Link i of request n as its window's row stands at moment `at`."""
    window, t, outcome, closes = links[i]
    result = link_result(links, i, at)
    nxt = links[i + 1][0] if i + 1 < len(links) else None
    applicant, phone = PEOPLE[n]
    return good_row(request_id=rid, channel="联络群转入" if i else "窗口现场", received_at=t,
                    replied_at=t + timedelta(minutes=30), result=result, applicant=applicant, phone=phone,
                    address=f"张店区人民西路{n + 1}号", closed_at=closes if result == "已办结" else None,
                    transferred_to=NAME[nxt] if result == "已转办" else "")


def month_sources(requests, ids, submits, k: int, period: Period):
    """Each submitting window's running ledger at its submission (the 24th, 17:00)."""
    at = period.end - timedelta(hours=7)
    out = []
    for window in (A, B, C, D4):
        if submits[(window, k)] is True:
            rows = [link_row(links, n, ids[n], i, at) for n, links in enumerate(requests)
                    for i, (w, t, _, _) in enumerate(links) if w == window and t < at]
            out.append(source(window, period.label[-2:], *rows))
    return out


def late_sources(requests, ids, submits):
    """October submitted after its end (the 26th, 09:00) into November's folder: its October rows then."""
    at = OCT.end + timedelta(hours=33)
    out = []
    for window in (A, B, C, D4):
        if submits[(window, 0)] == "late":
            src = source(window, "10late", *(link_row(links, n, ids[n], i, at) for n, links in enumerate(requests)
                                             for i, (w, t, _, _) in enumerate(links) if w == window and t < OCT.end))
            src.submitted_at, src.for_period = at, OCT.label
            out.append(src)
    return out


def applicants_of(cons, months_sources) -> list[set[str]]:
    """For each request of the report, the applicants of the rows it stands for (its own and those merged)."""
    rows = {f"{s.window} {s.path.name} 第{r.excel_row}行": r.values["applicant"] for s in months_sources for r in s.rows}
    return [{d.values["applicant"], *(rows[m] for m in d.merged_rows)} for d in cons.details]


Dt = datetime
# found by this test: in a month with an archive behind it, B's 联络群转入 of 李四's request (a 受理编号
# conflict with 张三's, accepted first by A under the same number) was merged by the cross-month step into C's
# row of the same number: a pair the month's own merge had listed apart (and --no-archive kept apart)
SAME_MONTH_CONFLICT = ([[(A, Dt(2026, 11, 5, 9), "办理中", None)],
                        [(C, Dt(2026, 11, 6, 9), "办理中", None), (B, Dt(2026, 11, 6, 10), "办理中", None)]],
                       ("X-1", "X-1"), {(w, k): k == 1 for w in (A, B, C, D4) for k in (0, 1, 2)})


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(SAME_MONTH_CONFLICT)
@given(two_requests())
def test_two_requests_sharing_a_number_are_never_one(tmp_path_factory, case):
    requests, ids, submits = case
    print("requests:", [[(w, f"{t:%m-%d %H:%M}", o, c and f"{c:%m-%d %H:%M}") for w, t, o, c in links]
                        for links in requests], "ids:", ids, "submits:", sorted(k for k, v in submits.items() if v))
    months = [(p.label, month_sources(requests, ids, submits, k, p)) for k, p in enumerate((OCT, NOV, DEC))]
    late = late_sources(requests, ids, submits)
    results = run(tmp_path_factory.mktemp("two"), months, ([], late))
    for (label, srcs), (cons, _, report) in zip(months, results):
        srcs = srcs + (late if label == NOV.label else [])
        mixed = [names for names in applicants_of(cons, srcs) if len(names) > 1]
        assert not mixed, (label, [(d.window, role(d), d.merged_rows) for d in cons.details])
        assert cons.rows_in == len(cons.details) - cons.from_archive + cons.merged + len(cons.excluded)
        # a request is listed at most once a month
        owners = [d.values["applicant"] for d in cons.details]
        assert len(owners) == len(set(owners)), (label, [(d.window, role(d)) for d in cons.details])
        assert report.figures["group"]["received"] + report.figures["group"]["carried_over"] == len(cons.details)
    for n, (applicant, _) in enumerate(PEOPLE):
        reached = any(r.values["applicant"] == applicant for s in [*late, *(s for _, m in months for s in m)]
                      for r in s.rows)
        received = [(cons.period.label, d.window, role(d)) for cons, _, _ in results for d in cons.details
                    if d.values["applicant"] == applicant and role(d) != "carried"]
        assert len(received) == (1 if reached else 0), (applicant, [
            (cons.period.label, [(d.window, role(d), d.values["applicant"]) for d in cons.details])
            for cons, _, _ in results])


def test_the_cross_month_step_leaves_the_months_own_conflicts_as_the_month_decided(tmp_path):
    """No accepting row: B received 张三's X-1 first, C and D 李四's under the same number. The month's merge
    keeps all three (C and D are 受理编号 conflicts with B's, the first receipt); with an archive behind the
    month the cross-month step, meant for pairs the month's merge never saw together, merged D into C: the
    same month counted 3 without the archive and 2 with it, and 疑似重复 named a row merged away."""
    b = good_row(request_id="X-1", channel="联络群转入", received_at=Dt(2026, 11, 5, 9), applicant="张三",
                 phone="13800000001", result="办理中", closed_at=None)
    c = dict(b, received_at=Dt(2026, 11, 6, 9), applicant="李四", phone="13900000002")
    d = dict(c, received_at=Dt(2026, 11, 7, 9))
    month = [source(B, "11", b), source(C, "11", c), source(D4, "11", d)]
    (tmp_path / "alone").mkdir()
    ((alone, _, _),) = run(tmp_path / "alone", [("2026-11", month)])
    (_, (archived, _, _)) = run(tmp_path, [("2026-10", []), ("2026-11", month)])
    for cons in (alone, archived):
        assert [(x.window, role(x), x.handled_by) for x in cons.details] == [
            (B, "received", ()), (C, "received", ()), (D4, "received", ())]
        listed = {(x.window, x.file, x.source_row) for x in cons.details}
        assert all({(s.window, s.file, s.source_row), (s.other_window, s.other_file, s.other_row)} <= listed
                   for s in cons.suspects)


def test_a_number_reused_by_its_window_next_month_for_another_applicant_is_a_new_request(tmp_path):
    """A reported 张三's X-1 open in October; in November its clerk gave the number X-1 again, to 李四's request
    received on November 10th (different phone). That row was taken for October's request and counted as
    结转: 李四's request was received in no report. A row received inside the period is an earlier period's
    request only when plausibly the same applicant's (as a transfer is)."""
    october = good_row(request_id="X-1", received_at=Dt(2026, 10, 20, 9), applicant="张三", phone="13800000001",
                       result="办理中", closed_at=None)
    reused = good_row(request_id="x-1", received_at=Dt(2026, 11, 10, 9), applicant="李四", phone="13900000002")
    corrected = dict(october, received_at=Dt(2026, 10, 27, 9))     # the same request, its receipt time corrected
    (_, (nov, _, report)) = run(tmp_path, [("2026-10", [source(A, "10", october)]),
                                           ("2026-11", [source(A, "11", october, reused)])])
    assert [(d.values["applicant"], role(d)) for d in nov.details] == [("张三", "carried"), ("李四", "received")]
    assert report.figures["group"]["received"] == 1
    (tmp_path / "fixed").mkdir()
    (_, (fixed, _, _)) = run(tmp_path / "fixed", [("2026-10", [source(A, "10", october)]),
                                                  ("2026-11", [source(A, "11", corrected)])])
    assert [(d.values["applicant"], role(d)) for d in fixed.details] == [("张三", "carried")]
    # the number given again and October's request left out of the ledger: a new request, and 张三's 未续报
    (tmp_path / "alone").mkdir()
    (_, (alone, _, _)) = run(tmp_path / "alone", [("2026-10", [source(A, "10", october)]),
                                                  ("2026-11", [source(A, "11", reused)])])
    assert [(d.values["applicant"], role(d)) for d in alone.details] == [("李四", "received")]
    assert [(x.window, x.request_id) for x in alone.dropped_open] == [(A, "X-1")]
