"""Parsing in worker processes: same ledger as in-process, failures become findings, nothing left behind."""
import ctypes
import os
import pickle
import sys
import time
from pathlib import Path

import pytest

from xl_automation.model import config as cfg
from xl_automation.xlsx import memory_ceiling
from xl_automation.model.findings import CATALOGUE, make
from xl_automation.xlsx.isolation import FAULT_ENV, Limits, _pack, _unpack, read_many, read_untrusted
from xl_automation.model.ledger import LedgerError
from xl_automation.xlsx.reader import read_ledger

from support.ledger_files import sample_rows, write_ledger

from support.paths import CORPUS
from support.ledger_files import stray_cell_ledger


def limited(**limits) -> cfg.Config:
    data = cfg.default_data()
    data["limits"] = dict(data["limits"], **limits)
    return cfg.Config(data, "测试")


def child_pids() -> set[int]:
    """Every live child of this process, from /proc (all threads' children lists), except
    multiprocessing's one resource tracker, which spawn starts once and which ends with its parent."""
    pids = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            pids |= {int(p) for p in (task / "children").read_text().split()}
        except OSError:
            pass
    return {p for p in pids if "resource_tracker" not in _cmdline(p)}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def worker_logs() -> set[str]:
    import tempfile
    return {p.name for p in Path(tempfile.gettempdir()).glob(f"xl_worker_{os.getpid()}_*.log")}


@pytest.fixture
def no_leftover_workers():
    before, logs = child_pids(), worker_logs()
    yield
    assert worker_logs() - logs == set(), "a worker's stderr file was left behind"
    deadline = time.monotonic() + 5
    while child_pids() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child_pids() - before == set(), "a worker process was left behind"


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ledgers")
    return [write_ledger(folder / f"L{n}.xlsx", sample_rows(n)) for n in (3, 40, 120)]


def as_data(ledger):
    return _pack(ledger)


def test_a_ledger_read_in_a_worker_equals_the_one_read_in_process(ledgers, no_leftover_workers):
    for path in ledgers:
        inside, outside = read_ledger(path), read_untrusted(path)
        assert as_data(outside) == as_data(inside)
        assert outside.rows[1].values["phone"] == inside.rows[1].values["phone"]
        assert outside.findings == inside.findings and outside.info == inside.info


def test_read_many_keeps_order_and_parallel_equals_one_worker(ledgers, tmp_path, no_leftover_workers):
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"not a workbook")
    files = [ledgers[2], bad, ledgers[0], CORPUS / "calamine" / "too_small.xls", ledgers[1], tmp_path / "无.xlsx"]
    one = read_many(files, workers=1)
    many = read_many(files, workers=3)

    def outcome(r):
        return ("error", r.finding, r.path) if isinstance(r, LedgerError) else ("ok", as_data(r))
    assert [outcome(r) for r in many] == [outcome(r) for r in one]
    assert [type(r).__name__ for r in one] == ["Ledger", "LedgerError", "Ledger", "LedgerError", "Ledger", "LedgerError"]
    assert [len(r.rows) for r in (one[0], one[2], one[4])] == [120, 3, 40]
    assert [r.finding.code for r in (one[1], one[3], one[5])] == ["file-not-xlsx", "file-not-xlsx", "file-not-found"]


def test_each_result_is_handed_over_once_as_it_arrives_while_others_are_read(ledgers, tmp_path,
                                                                            no_leftover_workers):
    """collect checks a ledger while the workers read the next: on_result sees every file once, with the
    very object read_many returns, and the workers are already busy with later files when it runs."""
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"not a workbook")
    files = [ledgers[2], bad, ledgers[0], ledgers[1], ledgers[2], ledgers[0]]
    seen: dict[int, object] = {}
    waiting_then: list[int] = []
    queued = list(range(len(files)))

    def on_file(n, total, name):
        queued.remove(n - 1)

    def on_result(index, result):
        assert index not in seen
        seen[index] = result
        waiting_then.append(len(queued))
    results = read_many(files, workers=2, on_file=on_file, on_result=on_result)
    assert sorted(seen) == list(range(len(files)))
    assert all(seen[i] is r for i, r in enumerate(results))
    assert isinstance(seen[1], LedgerError) and [len(seen[i].rows) for i in (0, 2, 3)] == [120, 3, 40]
    # the first result is handed over after the next file has gone to the worker it freed
    assert waiting_then[0] < len(files) - 2


def test_a_native_abort_is_a_finding_and_the_next_file_is_still_read(ledgers, tmp_path, monkeypatch,
                                                                   no_leftover_workers):
    crash = tmp_path / "崩溃.xlsx"
    crash.write_bytes(ledgers[0].read_bytes())
    monkeypatch.setenv(FAULT_ENV, f"abort:{crash.name}")
    first, after = read_many([crash, ledgers[1]], workers=1)
    assert first.finding.code == "file-parse-crashed" and "SIGABRT" in first.finding.message
    assert len(after.rows) == 40
    with pytest.raises(LedgerError) as e:
        read_untrusted(crash)
    assert e.value.finding.code == "file-parse-crashed" and "崩溃.xlsx" in str(e.value)


def test_a_real_memory_storm_file_hits_the_ceiling(tmp_path, no_leftover_workers):
    storm = stray_cell_ledger(tmp_path / "远处单元格.xlsx")
    t = time.monotonic()
    with pytest.raises(LedgerError) as e:
        read_untrusted(storm, config=limited(memory_mb=512))
    assert e.value.finding.code == "file-too-large" and "512 MB" in e.value.finding.message
    assert time.monotonic() - t < 30


def test_a_python_level_memory_storm_is_too_large(ledgers, tmp_path, monkeypatch, no_leftover_workers):
    hog = tmp_path / "吃内存.xlsx"
    hog.write_bytes(ledgers[0].read_bytes())
    monkeypatch.setenv(FAULT_ENV, f"memory:{hog.name}")
    result, after = read_many([hog, ledgers[0]], config=limited(memory_mb=400), workers=1)
    assert result.finding.code == "file-too-large" and len(after.rows) == 3


def test_a_hanging_parse_is_stopped_at_the_time_limit(ledgers, tmp_path, monkeypatch, no_leftover_workers):
    slow = tmp_path / "卡住.xlsx"
    slow.write_bytes(ledgers[0].read_bytes())
    monkeypatch.setenv(FAULT_ENV, f"hang:{slow.name}")
    t = time.monotonic()
    result, after = read_many([slow, ledgers[0]], config=limited(seconds_per_file=1.5), workers=2)
    assert result.finding.code == "file-timeout" and "1.5 秒" in result.finding.message
    assert len(after.rows) == 3
    assert time.monotonic() - t < 30      # not the hour the worker would sleep


def test_ledger_errors_cross_the_process_boundary_intact(tmp_path):
    e = LedgerError("file-corrupt", tmp_path / "a.xlsx", detail="压缩数据损坏")
    back = pickle.loads(pickle.dumps(e))
    assert (back.finding, back.path, str(back)) == (e.finding, e.path, str(e))


def test_rows_travel_as_plain_tuples(ledgers):
    ledger = read_ledger(ledgers[2])
    head, rows = _pack(ledger)
    assert all(type(values) is tuple for _, _, values in rows)
    data = pickle.dumps(rows)
    # no class of ours per row: unpickling builds tuples in C (measured: 100,000 rows load in
    # 0.55 s as tuples, 4.0 s as LedgerRow/RowValues dataclasses)
    assert b"LedgerRow" not in data and b"RowValues" not in data and b"LedgerRow" in pickle.dumps(ledger.rows)
    assert as_data(_unpack(_pack(ledger))) == as_data(ledger)


def test_limits_come_from_the_config_and_default_to_the_measured_sizes():
    assert Limits.from_config(cfg.load()) == Limits(1024, 60.0, 0)
    assert Limits.from_config(limited(memory_mb=300, workers=3)) == Limits(300, 60.0, 3)
    memory_workers = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2 // (1024 << 20)
    assert Limits(workers=0).worker_count(100) == max(1, min(len(os.sched_getaffinity(0)), memory_workers))
    assert Limits(memory_mb=1 << 30, workers=0).worker_count(100) == 1     # a ceiling beyond the RAM: one
    assert Limits(workers=8).worker_count(2) == 2
    bad = cfg.default_data()
    bad["limits"]["memory_mb"] = 10      # below what the worker itself needs to start
    with pytest.raises(cfg.ConfigError, match="limits/memory_mb"):
        cfg.check(bad, "测试")


def test_a_user_file_overlays_single_limits(tmp_path):
    user = tmp_path / "c.json"
    user.write_text('{"limits": {"seconds_per_file": 120}}', encoding="utf-8")
    assert Limits.from_config(cfg.load(user)) == Limits(1024, 120.0, 0)


def test_linux_ceiling_is_an_address_space_rlimit():
    import resource
    import subprocess
    code = ("import resource; from xl_automation.xlsx import memory_ceiling as m; print(m.apply(300 << 20)); "
            "print(resource.getrlimit(resource.RLIMIT_AS)[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["None", str(300 << 20)]
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY   # not this process


def test_where_no_ceiling_can_be_set_the_reason_is_said(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    reason = memory_ceiling.apply(1 << 30)
    assert reason and "darwin" in reason
    f = make("memory-limit-unavailable", detail=reason)
    assert f.severity == "warning" and "只限制读取时间" in f.message


class FakeKernel32:
    """The four kernel32 calls, recorded: the Windows path runs everywhere except the real API."""

    def __init__(self, fail=None):
        self.calls, self.fail = [], fail

    def CreateJobObjectW(self, attrs, name):
        self.calls.append("create")
        return 0 if self.fail == "create" else 1234

    def SetInformationJobObject(self, job, klass, info, size):
        limits = ctypes.cast(info, ctypes.POINTER(memory_ceiling.ExtendedLimits)).contents
        self.calls.append(("set", job, klass, limits.BasicLimitInformation.LimitFlags, limits.ProcessMemoryLimit, size))
        return 0 if self.fail == "set" else 1

    def GetCurrentProcess(self):
        return -1

    def AssignProcessToJobObject(self, job, process):
        self.calls.append(("assign", job, process))
        return 1


def test_windows_job_object_caps_the_process_memory():
    k = FakeKernel32()
    assert memory_ceiling.windows_job_ceiling(700 << 20, kernel32=k) is None
    size = ctypes.sizeof(memory_ceiling.ExtendedLimits)
    assert k.calls == ["create", ("set", 1234, 9, 0x100, 700 << 20, size), ("assign", 1234, -1)]
    if ctypes.sizeof(ctypes.c_void_p) == 8:
        assert size == 144      # sizeof(JOBOBJECT_EXTENDED_LIMIT_INFORMATION) on x64
    failed = FakeKernel32(fail="set")
    assert "SetInformationJobObject" in memory_ceiling.windows_job_ceiling(1 << 30, kernel32=failed)


@pytest.mark.skipif(sys.platform != "win32", reason="the real Job object API exists only on Windows")
def test_windows_job_object_for_real():
    code = ("from xl_automation.xlsx import memory_ceiling as m; assert m.apply(300 << 20) is None\n"
            "try:\n    b = bytearray(600 << 20)\nexcept MemoryError:\n    print('capped')")
    import subprocess
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "capped"


def test_exit_codes_in_words():
    assert "SIGSEGV" in memory_ceiling.describe_exit(-11)
    assert "0xc0000005" in memory_ceiling.describe_exit(0xC0000005) and "访问冲突" in memory_ceiling.describe_exit(0xC0000005)
    for code in ("file-parse-crashed", "file-too-large", "file-timeout", "memory-limit-unavailable"):
        assert code in CATALOGUE and "。" not in CATALOGUE[code][1][-1:]


def test_config_command_shows_the_limits_in_force(tmp_path):
    import subprocess
    user = tmp_path / "c.json"
    user.write_text('{"limits": {"memory_mb": 2048, "workers": 3}}', encoding="utf-8")
    run = lambda *a: subprocess.run([sys.executable, "-m", "xl_automation", "--config", str(user), *a],
                                    capture_output=True, text=True, check=True).stdout
    assert "内存上限 2048 MB，每个文件限时 60 秒，并行 3 个进程" in run("config")
    import json
    assert json.loads(run("config", "--json"))["limits"] == {"memory_mb": 2048, "seconds_per_file": 60, "workers": 3}


def test_when_no_worker_can_be_started_each_file_says_so(ledgers, monkeypatch):
    from xl_automation.xlsx import isolation

    def refused(limits):
        raise PermissionError("Access is denied")
    monkeypatch.setattr(isolation, "_Worker", refused)
    results = read_many(ledgers[:2])
    assert [r.finding.code for r in results] == ["file-parse-crashed"] * 2
    assert "读取进程无法启动" in results[0].finding.message
