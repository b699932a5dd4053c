"""A memory ceiling for the current process (a parsing worker): setrlimit on Linux, a Job object on Windows.

apply() returns None when the ceiling is in force, or a Chinese reason when it cannot be set (the
worker still has its time limit; isolation.py says so once per run).
"""
from __future__ import annotations

import ctypes
import signal
import sys
from typing import Any

JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x00000100
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
_WINDOWS_CRASH_CODES = {0xC0000005: "访问冲突", 0xC0000409: "运行时检测到错误并中止", 0xC00000FD: "栈溢出",
                        0xC0000017: "内存不足", 3: "程序中止（abort）"}


def apply(limit_bytes: int) -> str | None:
    if sys.platform.startswith("linux"):
        return _rlimit(limit_bytes)
    if sys.platform == "win32":
        return windows_job_ceiling(limit_bytes)
    return f"{sys.platform} 系统不支持按进程限制内存"


def _rlimit(limit_bytes: int) -> str | None:
    import resource
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = limit_bytes if hard == resource.RLIM_INFINITY else min(limit_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError) as e:
        return f"setrlimit 失败：{e}"
    return None


class _IoCounters(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
        "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]


class _BasicLimits(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", ctypes.c_uint32), ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", ctypes.c_uint32),
                ("Affinity", ctypes.c_size_t), ("PriorityClass", ctypes.c_uint32),
                ("SchedulingClass", ctypes.c_uint32)]


class ExtendedLimits(ctypes.Structure):
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION (winnt.h)."""
    _fields_ = [("BasicLimitInformation", _BasicLimits), ("IoInfo", _IoCounters),
                ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]


def windows_job_ceiling(limit_bytes: int, kernel32: Any = None) -> str | None:
    """Put the current process in a new Job object whose per-process committed memory is capped:
    an allocation beyond it fails (MemoryError, or a native abort the parent reads as too large)."""
    if kernel32 is None:
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return f"CreateJobObject 失败（错误 {_last_error()}）"
    info = ExtendedLimits()
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_PROCESS_MEMORY
    info.ProcessMemoryLimit = limit_bytes
    if not kernel32.SetInformationJobObject(job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                                            ctypes.byref(info), ctypes.sizeof(info)):
        return f"SetInformationJobObject 失败（错误 {_last_error()}）"
    if not kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess()):
        return f"AssignProcessToJobObject 失败（错误 {_last_error()}）"
    return None


def _last_error() -> int:
    return getattr(ctypes, "get_last_error", lambda: 0)()     # Windows only


def describe_exit(code: int | None) -> str:
    """A worker's exit code in words: a POSIX signal, or a Windows NTSTATUS."""
    if code is None:
        return "读取进程意外结束"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"信号 {-code}"
        return f"读取进程被 {name} 终止"
    what = _WINDOWS_CRASH_CODES.get(code & 0xFFFFFFFF)
    return f"读取进程异常退出（{what or '退出码'} {code & 0xFFFFFFFF:#x}）"
