"""What every command shares with the parser: exit codes, the one-line usage error, --now, JSON output.

Its own module so that the commands (and the buttons, and history) import these without importing the
parser that imports them: no cycle between cli.main and the command modules."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

EXIT_OK, EXIT_ERRORS, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """A wrong argument, said in one Chinese line."""


def parse_now(text: str | None) -> datetime:
    if not text:
        return datetime.now().replace(microsecond=0)
    from xl_automation.rules.normalize import parse_datetime
    value = parse_datetime(text)
    if not isinstance(value, datetime):
        raise UsageError(f"--now “{text}”不是有效的时间，应如 2026-11-20 12:00")
    return value


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))
