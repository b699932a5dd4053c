"""The one-line error edge: the only place that turns an exception into a message on stderr and an exit
code. The command line runs every command through it, and the demo every step, so both say the same."""
from __future__ import annotations

import json
import os
import re
import sys
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator

from xl_automation.model import config as cfg
from xl_automation.model.exits import EXIT_UNUSABLE, UsageError, path_shape_message
from xl_automation.model.ledger import LedgerError
from xl_automation.model.text import REPLACEMENT
from xl_automation.rules.periods import PeriodError


def guarded(call: Callable[[], int], *, json_output: bool = False) -> int:
    """call() and its exit code; an exception becomes one Chinese line on stderr and exit 2 (130 on ^C).
    With json_output, an unusable ledger is also described as JSON on stdout."""
    try:
        return call()
    except LedgerError as e:
        if json_output:
            print_json({"file": str(e.path), "error": e.finding.as_dict()})
        print(f"无法使用：{e}", file=sys.stderr)
        return EXIT_UNUSABLE
    except (cfg.ConfigError, UsageError, PeriodError) as e:
        print(str(e), file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130
    except PermissionError as e:
        print(f"无法读写 {e.filename}：没有权限，或文件正被其他程序占用。请关闭占用它的程序后再运行", file=sys.stderr)
        return EXIT_UNUSABLE
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as e:
        print(path_shape_message(e), file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:
        # `… | head`, or `more` quit: the reader has what it wanted and the work was done before printing.
        # (The workers' pipes are handled in xlsx.isolation: a broken pipe reaching here is the output.)
        _silence_stdout()
        return EXIT_OUTPUT_CLOSED
    except Exception as e:  # the last line of defence: one line, never a traceback for a user
        if _is_report_error(e) or _is_archive_error(e):
            print(str(e), file=sys.stderr)
            return EXIT_UNUSABLE
        if os.environ.get("XL_AUTOMATION_DEBUG"):
            raise
        return _internal_error(e)


EXIT_OUTPUT_CLOSED = 141       # as a shell reports a program stopped by SIGPIPE (128 + 13)


def _internal_error(e: BaseException) -> int:
    print(f"程序内部错误（{type(e).__name__}: {e}）。请把这条信息和文件发给维护人员；"
          "设置环境变量 XL_AUTOMATION_DEBUG=1 可看到详细信息", file=sys.stderr)
    return EXIT_UNUSABLE


def _silence_stdout() -> None:
    """stdout pointed at the null device, so that the interpreter's last flush does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):      # no real stdout (pythonw, a captured stream): nothing to flush
        pass


def _is_report_error(e: Exception) -> bool:
    """A ReportError, without importing the report writer (and XlsxWriter) into every command:
    only a command that imported it can have raised one."""
    book = sys.modules.get("xl_automation.report.report_book")
    return book is not None and isinstance(e, book.ReportError)


def _is_archive_error(e: Exception) -> bool:
    """An ArchiveError (the archive cannot be used: the message names the file and what to do), likewise
    without importing the archive into commands that never open it."""
    archive = sys.modules.get("xl_automation.month_end.archive")
    return archive is not None and isinstance(e, archive.ArchiveError)


def parse_now(text: str | None, option: str = "--now") -> datetime:
    """--now (or --since, named by option) as typed; the system time when not given."""
    if not text:
        return datetime.now().replace(microsecond=0)
    from xl_automation.rules.normalize import parse_datetime
    value = parse_datetime(text)
    if not isinstance(value, datetime):
        raise UsageError(f"{option} “{text}”不是有效的时间，应如 2026-11-20 12:00")
    return value


# C0 and C1 control characters but line feed, tab and carriage return (the progress line's); DEL too
_CONSOLE_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class PlainStream:
    """A text stream that shows a control character as U+FFFD: a cell value, sheet name or file name
    printed to the terminal cannot carry ESC or CSI sequences that clear the screen, move the cursor or
    recolour what follows (nor a bell or a backspace)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_CONSOLE_CONTROL.sub(REPLACEMENT, text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def plain_console() -> Iterator[None]:
    """stdout and stderr as PlainStream while a command runs (the command line's edge)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PlainStream(out), PlainStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def print_json(data: Any) -> None:
    """JSON escapes C0 characters itself; DEL and C1 ones are escaped here, so the value stays exact."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    print(_CONSOLE_CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text))
