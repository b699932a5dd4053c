"""The definitions every layer reads: the findings catalogue, the row schema and the labels hold together."""
import ast
import re
import string
from pathlib import Path

import pytest

from support.paths import ROOT
from xl_automation.model import labels, schema
from xl_automation.model.findings import CATALOGUE, ERROR, WARNING, make
from xl_automation.model.ledger import SCHEMA_POSITION
from xl_automation.rules.normalize import header_key

CJK = re.compile(r"[\u4e00-\u9fff]")
PACKAGE = ROOT / "xl_automation"


def string_constants(skip: Path) -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if path == skip:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_catalogue_code_is_raised_somewhere():
    used = string_constants(PACKAGE / "model" / "findings.py")
    dead = sorted(code for code in CATALOGUE if code not in used)
    assert not dead, f"catalogue entries no code raises (stale messages): {dead}"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_each_entry_is_a_chinese_message_with_a_fix_and_formats(code):
    severity, message, hint = CATALOGUE[code]
    assert severity in (ERROR, WARNING)
    assert CJK.search(message) and CJK.search(hint), "messages and hints are Chinese"
    names = placeholders(message) | placeholders(hint)
    assert all(n.isidentifier() for n in names), names
    finding = make(code, **{n: f"<{n}>" for n in names - {"value", "header", "sheet", "row", "cell"}},
                   value="<value>", column="<header>", sheet="<sheet>", row=7, cell="<cell>")
    assert "{" not in finding.message and "{" not in finding.hint


def test_schema_keys_headers_and_aliases_name_one_column_each():
    seen: dict[str, str] = {}
    for c in schema.COLUMNS:
        for name in (c.header, *c.aliases):
            k = header_key(name)
            assert seen.setdefault(k, c.key) == c.key, f"“{name}” names both {seen[k]} and {c.key}"
    assert len({c.key for c in schema.COLUMNS}) == len(schema.COLUMNS)


def test_reader_positions_follow_the_schema_order():
    assert list(SCHEMA_POSITION) == [c.key for c in schema.COLUMNS]
    assert list(SCHEMA_POSITION.values()) == list(range(len(schema.COLUMNS)))


def test_result_rules_name_real_results_and_columns():
    results = set(schema.BY_KEY["result"].enum)
    for result, key in schema.RESULT_REQUIRES.items():
        assert result in results and key in schema.BY_KEY


def test_sheet_and_info_labels_are_distinct_and_fit_excel():
    sheets = [labels.LEDGER_SHEET, labels.FORM_SHEET, labels.INFO_SHEET, labels.LOOKUP_SHEET, labels.ANNOTATION_SHEET]
    assert len(set(sheets)) == len(sheets)
    assert all(len(s) <= 31 and not set(s) & set("[]:*?/\\") for s in sheets)
    assert len(set(labels.INFO_KEYS)) == len(labels.INFO_KEYS)
