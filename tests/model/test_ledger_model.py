"""model.ledger's small helpers."""
from hypothesis import given
from hypothesis import strategies as st

from xl_automation.model.ledger import consecutive_runs


@given(st.sets(st.integers(-50, 200)))
def test_consecutive_runs_cover_the_numbers_in_order_each_run_maximal(numbers):
    ordered = sorted(numbers)
    runs = consecutive_runs(ordered)
    assert [n for run in runs for n in run] == ordered
    assert all(b == a + 1 for run in runs for a, b in zip(run, run[1:]))
    assert all(later[0] > earlier[-1] + 1 for earlier, later in zip(runs, runs[1:]))    # no two runs could join


def test_consecutive_runs_example():
    assert consecutive_runs([1, 2, 3, 7, 9, 10]) == [[1, 2, 3], [7], [9, 10]] and consecutive_runs([]) == []
