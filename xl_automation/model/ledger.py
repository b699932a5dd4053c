"""The in-memory ledger: normalised rows that remember the Excel row the user sees."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from xl_automation.model.findings import Finding, make
from xl_automation.model.schema import COLUMNS


_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
_INDEX: dict[str, int] = {k: i for i, k in enumerate(_KEYS)}
SCHEMA_POSITION = _INDEX        # a column key's position in a reader row (RowValues): one table for all readers


class RowValues(tuple):
    """A row's values in schema order, read like a dict by key: a third of a dict's memory,
    which is what lets a million-row month fit (dict(values) gives a plain dict)."""
    __slots__ = ()

    def __getitem__(self, key):
        return tuple.__getitem__(self, _INDEX[key])

    def get(self, key, default=None):
        i = _INDEX.get(key)
        return default if i is None else tuple.__getitem__(self, i)

    def keys(self):
        return _KEYS

    def items(self):
        return zip(_KEYS, tuple.__iter__(self))

    def __iter__(self):
        return iter(_KEYS)

    def __contains__(self, key):
        return key in _INDEX

    def __repr__(self):
        return f"RowValues({dict(self.items())!r})"


class Picker:
    """A few columns of a row, in a fixed order, read at once: by position from a reader row (RowValues), by key
    from a plain dict. The passes over a month's requests (figures, breakdown) read each row through one."""
    __slots__ = ("keys", "positions")

    def __init__(self, keys):
        self.keys = tuple(keys)
        self.positions = tuple(_INDEX[k] for k in self.keys)

    def __call__(self, values) -> list:
        if type(values) is RowValues:
            get = tuple.__getitem__
            return [get(values, i) for i in self.positions]
        return [values.get(key) for key in self.keys]


@dataclass(slots=True)
class LedgerRow:
    excel_row: int                 # 1-based row number as Excel shows it
    values: dict[str, Any]         # key -> normalised value (see reader: str, bool, datetime, DateOnly, Invalid, None)
    hidden: bool = False


@dataclass
class Ledger:
    path: Path
    sheet: str
    header_row: int                # 1-based
    columns: dict[str, int]        # key -> 1-based column index, only columns present in the file
    rows: list[LedgerRow]
    findings: list[Finding] = field(default_factory=list)   # structural, found while reading
    info: dict[str, str] = field(default_factory=dict)      # the info sheet's key -> value
    date1904: bool = False
    header_names: dict[str, str] = field(default_factory=dict)  # key -> header text as written in the file
    format: str = "xlsx"           # xlsx | xlsm | xls (xls is read, but cannot be annotated)

    def cell(self, row: int, key: str) -> str | None:
        """A1 reference of a row's cell in a column, or None when the column is absent."""
        col = self.columns.get(key)
        return f"{column_letter(col)}{row}" if col else None


class LedgerError(Exception):
    """The file cannot be used at all (exit code 2); carries the finding that says why."""

    def __init__(self, code: str, path: Path | str, **params: Any):
        self._set(make(code, **params), Path(path))

    def _set(self, finding: Finding, path: Path) -> None:
        self.finding, self.path = finding, path
        super().__init__(f"{path.name}：{finding.message}。{finding.hint}")

    def __reduce__(self):
        # pickled across the worker-process boundary (isolation.py) with its finding intact
        return _rebuild_error, (self.finding, self.path)


def _rebuild_error(finding: Finding, path: Path) -> LedgerError:
    error = LedgerError.__new__(LedgerError)
    error._set(finding, path)
    return error


@contextmanager
def gc_paused():
    """Pause the cyclic GC while building rows: they hold no cycles, and its repeated passes over the
    growing list cost more than building them (100,000 rows: 0.86 s with it, 0.10 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def consecutive_runs(numbers: Iterable[int]) -> list[list[int]]:
    """Sorted numbers grouped into runs of consecutive ones: [1, 2, 3, 7, 9, 10] -> [[1, 2, 3], [7], [9, 10]]."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
