"""Untrusted workbooks are parsed in worker processes, each with a memory ceiling and a time limit.

A native parser that aborts (a Rust allocation failure, a segfault) or allocates gigabytes because a
file's records claim so cannot be stopped inside the process: the worker dies or is killed instead, the
file becomes a finding (file-parse-crashed, file-too-large, file-timeout) and the run goes on.
Workers are started with the spawn method (the same on Windows), reused from file to file, replaced
after a failure, and always ended before read_many returns.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, fields
from multiprocessing import get_context
from multiprocessing.connection import wait
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from xl_automation.xlsx import memory_ceiling
from xl_automation.model.findings import make
from xl_automation.model.ledger import Ledger, LedgerError, LedgerRow, RowValues, gc_paused

__all__ = ["Limits", "read_untrusted", "read_many", "FAULT_ENV"]

# test-only: "abort:name;memory:name;hang:name" makes the worker fail that way on a file of that name
FAULT_ENV = "XL_AUTOMATION_WORKER_FAULT"
STARTUP_SECONDS = 60          # a spawned worker imports the reader before it reads; slow PCs need time
_MEMORY_WORDS = ("memory allocation of", "out of memory", "MemoryError", "bad_alloc")
_warned: set[str] = set()


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 1024      # per worker; a 100,000-row ledger peaks at ~380 MB of address space
    seconds: float = 60        # per file; a 100,000-row ledger reads in ~2 s
    workers: int = 0           # 0: one per available core

    @classmethod
    def from_config(cls, config: Any = None) -> "Limits":
        data = (getattr(config, "data", None) or {}).get("limits", {})
        return cls(int(data.get("memory_mb", cls.memory_mb)), float(data.get("seconds_per_file", cls.seconds)),
                   int(data.get("workers", cls.workers)))

    def worker_count(self, files: int) -> int:
        """Configured, or one per core; never more than half the machine's memory at the ceiling allows
        (eight hostile files on an 8-core PC with 8 GB must not take all of it)."""
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return max(1, min(self.workers or min(cores, _memory_bytes() // 2 // (self.memory_mb << 20)), files))


def _memory_bytes() -> int:
    """Physical memory where the system says (Linux, macOS); unbounded elsewhere."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 1 << 62


def read_untrusted(path: str | Path, *, config: Any = None) -> Ledger:
    """reader.read_ledger, in a worker within the configured limits; an unusable file is a LedgerError."""
    result = read_many([path], config=config, workers=1)[0]
    if isinstance(result, LedgerError):
        raise result
    return result


def read_many(paths: Iterable[str | Path], *, config: Any = None, workers: int | None = None,
              on_file: Callable[[int, int, str], None] | None = None,
              on_result: Callable[[int, Ledger | LedgerError], None] | None = None) -> list[Ledger | LedgerError]:
    """Each file's Ledger or LedgerError, in the order given, read in parallel workers;
    on_file(n, total, name) as the n-th file goes to a worker (progress); on_result(index, result) as
    each file's result arrives, in the order they finish, after the workers have their next files (the
    caller's work on one file overlaps the reading of the others)."""
    paths = [Path(p) for p in paths]
    limits = Limits.from_config(config)
    count = workers or limits.worker_count(len(paths))
    results: list[Ledger | LedgerError | None] = [None] * len(paths)
    queue = deque(enumerate(paths))
    idle: list[_Worker] = []
    busy: dict[_Worker, int] = {}
    arrived: list[int] = []
    try:
        while queue or busy or arrived:
            while queue and len(busy) < count:
                index, path = queue.popleft()
                if on_file is not None:
                    on_file(index + 1, len(paths), path.name)
                try:
                    worker = idle.pop() if idle else _Worker(limits)
                except OSError as e:     # process creation refused (security software, no resources)
                    results[index] = LedgerError("file-parse-crashed", path, detail=f"读取进程无法启动：{e}")
                    arrived.append(index)
                    continue
                worker.start(path)
                busy[worker] = index
            if on_result is not None:
                for index in arrived:
                    on_result(index, results[index])  # type: ignore[arg-type]
            arrived.clear()
            if not busy:
                continue
            deadline = min(w.deadline for w in busy)
            handles = [h for w in busy for h in (w.conn, w.process.sentinel)]
            wait(handles, timeout=max(0.0, deadline - time.monotonic()))
            for worker in list(busy):
                outcome = worker.outcome()
                if outcome is None:
                    continue
                index = busy.pop(worker)
                results[index] = outcome
                arrived.append(index)
                if worker.alive():
                    idle.append(worker)
                else:
                    worker.close()      # a fresh worker takes the next file
    finally:
        for worker in (*idle, *busy):
            worker.close()
    return results  # type: ignore[return-value]


class _Worker:
    def __init__(self, limits: Limits):
        self.limits = limits
        fd, self.stderr_path = tempfile.mkstemp(prefix=f"xl_worker_{os.getpid()}_", suffix=".log")
        os.close(fd)
        self.conn, child = get_context("spawn").Pipe()
        self.process = get_context("spawn").Process(
            target=_serve, args=(child, limits.memory_mb << 20, self.stderr_path), daemon=True)
        try:
            with _main_hidden():
                self.process.start()
        except OSError:
            child.close()
            self.conn.close()
            os.unlink(self.stderr_path)
            raise
        child.close()
        self.ready = False
        self.path: Path | None = None
        self.deadline = time.monotonic() + STARTUP_SECONDS

    def start(self, path: Path) -> None:
        self.path = path
        self.conn.send(str(path))
        self.deadline = time.monotonic() + self.limits.seconds + (0 if self.ready else STARTUP_SECONDS)

    def alive(self) -> bool:
        return self.process.is_alive()

    def outcome(self) -> Ledger | LedgerError | None:
        """The job's result once there is one; None while the file is still being read."""
        try:
            while self.conn.poll():
                with gc_paused():
                    message = self.conn.recv()
                if message[0] == "ready":
                    self._ready(message[1])
                    continue
                return self._result(message)
        except (EOFError, OSError):
            pass      # the worker died: its exit code says how
        if not self.process.is_alive():
            self.process.join()
            return self._died()
        if time.monotonic() >= self.deadline:
            self.kill()
            return LedgerError("file-timeout", self.path, seconds=f"{self.limits.seconds:g}")
        return None

    def _ready(self, ceiling_problem: str | None) -> None:
        self.ready = True
        self.deadline = time.monotonic() + self.limits.seconds
        if ceiling_problem and ceiling_problem not in _warned:
            _warned.add(ceiling_problem)
            f = make("memory-limit-unavailable", detail=ceiling_problem)
            print(f"提醒：{f.message}。{f.hint}", file=sys.stderr)

    def _result(self, message: tuple) -> Ledger | LedgerError:
        kind = message[0]
        if kind == "ok":
            with gc_paused():
                return _unpack(message[1])
        if kind == "error":
            return message[1]
        if kind == "memory":
            self.kill()     # its heap is in pieces: a fresh worker reads the next file
            return self._too_large()
        self.kill()
        return LedgerError("file-parse-crashed", self.path, detail=f"程序内部错误 {message[1]}")

    def _died(self) -> LedgerError:
        code = self.process.exitcode
        text = _tail(self.stderr_path)
        if any(w in text for w in _MEMORY_WORDS):
            return self._too_large()
        if not self.ready and code:
            detail = f"读取进程未能启动，退出码 {code}；内存上限 {self.limits.memory_mb} MB 可能过小"
        else:
            detail = memory_ceiling.describe_exit(code)
        return LedgerError("file-parse-crashed", self.path, detail=detail)

    def _too_large(self) -> LedgerError:
        return LedgerError("file-too-large", self.path, detail=f"读取时所需内存超过上限 {self.limits.memory_mb:,} MB"
                           "（工作表中可能有远离数据区的单元格，或文件被恶意构造）")

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()

    def close(self) -> None:
        try:
            if self.process.is_alive():
                self.conn.send(None)
                self.process.join(timeout=5)
        except (OSError, ValueError):
            pass
        self.kill()
        self.conn.close()
        self.process.close()
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass


@contextmanager
def _main_hidden():
    """Start a worker without re-running the caller's main module in it (what spawn does by default):
    the worker needs only this package, and a caller's script without a __main__ guard still works."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _tail(path: str, size: int = 4096) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - size))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


_LEDGER_FIELDS = tuple(f.name for f in fields(Ledger) if f.name != "rows")
_ALL = slice(None)      # a RowValues sliced whole is a plain tuple, six times faster than tuple(iter(...))


def _pack(ledger: Ledger) -> tuple:
    """A Ledger as plain tuples: pickled once, a third of the bytes of the dataclasses."""
    rows = [(r.excel_row, r.hidden, tuple.__getitem__(r.values, _ALL)) for r in ledger.rows]
    return tuple(getattr(ledger, name) for name in _LEDGER_FIELDS), rows


def _unpack(packed: tuple) -> Ledger:
    head, rows = packed
    ledger = Ledger(**dict(zip(_LEDGER_FIELDS, head)), rows=[])
    ledger.rows = [LedgerRow(r, RowValues(values), hidden) for r, hidden, values in rows]
    return ledger


def _serve(conn, memory_bytes: int, stderr_path: str) -> None:
    """The worker: set the ceiling, then read one file per message until told to stop."""
    fd = os.open(stderr_path, os.O_WRONLY | os.O_TRUNC)
    os.dup2(fd, 2)          # a native panic's text goes to the parent, never onto the user's screen
    os.close(fd)
    conn.send(("ready", memory_ceiling.apply(memory_bytes)))
    from xl_automation.xlsx.reader import read_ledger
    faults = _faults()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return          # the parent is gone: so is the reason to live
        if job is None:
            return
        try:
            _fault(faults.get(Path(job).name))
            ledger = read_ledger(job)
            with gc_paused():
                conn.send(("ok", _pack(ledger)))
            del ledger
        except LedgerError as e:
            conn.send(("error", e))
        except MemoryError:
            conn.send(("memory",))
            return
        except Exception as e:  # a reader defect: the file is reported, the month goes on
            conn.send(("exception", f"{type(e).__name__}: {str(e)[:200]}"))
            return


def _faults() -> dict[str, str]:
    """File name -> fault, from the test-only environment variable."""
    out = {}
    for item in filter(None, os.environ.get(FAULT_ENV, "").split(";")):
        kind, _, name = item.partition(":")
        out[name] = kind
    return out


def _fault(kind: str | None) -> None:
    if kind == "abort":
        os.abort()
    elif kind == "memory":
        hoard = []
        while True:
            hoard.append(bytearray(64 << 20))
    elif kind == "hang":
        time.sleep(3600)
