"""The one-line error edge (commands.edge.guarded), alone: the CLI and the demo both run through it."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from xl_automation.commands.edge import guarded, parse_now
from xl_automation.model.exits import EXIT_UNUSABLE, UsageError
from xl_automation.model.ledger import LedgerError


def _raise(exc: BaseException):
    def call() -> int:
        raise exc
    return call


@given(st.integers(0, 1))
def test_a_command_that_returns_gives_its_own_exit_code(code):
    assert guarded(lambda: code) == code


def test_a_usage_error_is_its_message_and_exit_2(capsys):
    assert guarded(_raise(UsageError("没有编码为 XX 的窗口"))) == EXIT_UNUSABLE
    out, err = capsys.readouterr()
    assert out == "" and err == "没有编码为 XX 的窗口\n"


def test_an_unusable_ledger_is_also_json_when_json_was_asked(capsys):
    assert guarded(_raise(LedgerError("file-empty", "台账.xlsx")), json_output=True) == EXIT_UNUSABLE
    out, err = capsys.readouterr()
    assert json.loads(out)["error"]["code"] == "file-empty"
    assert err.startswith("无法使用：台账.xlsx：文件是空的") and err.count("\n") == 1


def test_an_unexpected_error_is_one_line_never_a_traceback(capsys, monkeypatch):
    monkeypatch.delenv("XL_AUTOMATION_DEBUG", raising=False)
    assert guarded(_raise(ValueError("坏了"))) == EXIT_UNUSABLE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "程序内部错误（ValueError: 坏了）" in err and "Traceback" not in err


def test_an_interrupt_is_130(capsys):
    assert guarded(_raise(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err == "已中断\n"


@pytest.mark.parametrize("text", ["2026-13-40 25:00", "明天", "12:00"])
def test_now_that_is_not_a_moment_is_a_usage_error(text):
    with pytest.raises(UsageError, match="--now"):
        parse_now(text)
