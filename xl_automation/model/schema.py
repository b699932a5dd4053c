"""The ledger row schema: columns, headers, kinds and rules, all derived from one JSON file."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

SCHEMA_FILE = "ledger_row.schema.json"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str  # text | datetime | tick | enum | number
    enum: tuple[str, ...] = ()
    required: bool = False          # a value must be present in every row
    column_required: bool = False   # the column must exist in the file
    program_written: bool = False
    service: bool = False
    personal: str | None = None     # "name" | "phone" | "text" (phone numbers inside) for masking
    aliases: tuple[str, ...] = ()
    width: float = 12
    input_message: str = ""


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    text = resources.files("xl_automation.model.data").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _columns(schema: dict[str, Any]) -> tuple[Column, ...]:
    required = set(schema["required"])
    cols = []
    for key, prop in schema["properties"].items():
        service = bool(prop.get("x-service"))
        cols.append(Column(
            key=key, header=prop["title"], kind=prop["x-kind"], enum=tuple(prop.get("enum", ())),
            required=key in required,
            column_required=key in required or service or bool(prop.get("x-column-required")),
            program_written=bool(prop.get("x-program-written")), service=service,
            personal=prop.get("x-personal"), aliases=tuple(prop.get("x-aliases", ())),
            width=prop.get("x-width", 12), input_message=prop.get("x-input-message", "")))
    return tuple(cols)


def _result_requirements(schema: dict[str, Any]) -> dict[str, str]:
    """{result value: key required by it}, read from the schema's if/then rules."""
    out = {}
    for rule in schema.get("allOf", ()):
        if "if" in rule:
            for key, cond in rule["if"]["properties"].items():
                (needed,) = rule["then"]["required"]
                out[cond["const"]] = needed
    return out


SCHEMA = load_schema()
COLUMNS: tuple[Column, ...] = _columns(SCHEMA)
BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)
INPUT_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if not c.program_written)
PROGRAM_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.program_written)
SERVICE_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.service)
DATETIME_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS if c.kind == "datetime")
RESULT_REQUIRES: dict[str, str] = _result_requirements(SCHEMA)


def header_lookup() -> dict[str, str]:
    """Normalised header text or alias -> column key."""
    from xl_automation.model.text import header_key
    table: dict[str, str] = {}
    for col in COLUMNS:
        for name in (col.header, *col.aliases):
            table.setdefault(header_key(name), col.key)
    return table
