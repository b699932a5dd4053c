"""The demo calls the commands' library functions, not the CLI parser, and its transcript shows each step as a
command line: that line, run through the CLI, must make the very same call. Checked for every kind of step the
demo takes, with the library functions replaced by recorders (so nothing is read or written).
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from xl_automation.cli import main as cli
from xl_automation.commands import ledger as L, month as M
from xl_automation.demo import run as demo
from xl_automation.model import config as cfg
from xl_automation.model.exits import UsageError

FUNCTIONS = {(L, "new_ledger"), (L, "validate"), (L, "flag"), (M, "submit"), (M, "consolidate"), (M, "notice")}


@pytest.fixture
def calls(monkeypatch):
    """Every call to a command function, as (name, its arguments bound by name with defaults filled in)."""
    seen: list[tuple[str, dict]] = []
    for module, name in FUNCTIONS:
        real = getattr(module, name)

        def record(*args, _real=real, _name=name, **kwargs):
            bound = inspect.signature(_real).bind(*args, **kwargs)
            bound.apply_defaults()
            values = dict(bound.arguments)
            conf = values.pop("conf")
            assert isinstance(conf, cfg.Config)
            progress = values.pop("progress", None)
            assert progress is None or not progress.enabled      # neither draws a progress line here
            seen.append((_name, {k: (Path(v) if isinstance(v, str) and k in PATHS else v) for k, v in values.items()}))
            if values.get("json"):
                print(json.dumps({"recorded": _name}))
            return 0
        monkeypatch.setattr(module, name, record)
    return seen


PATHS = {"out", "file", "to", "folder", "from_ledger"}


class _Seen(demo._Log):
    """The demo's log, keeping the argument list of the step it ran."""

    def run(self, argv, call):
        self.argv = list(argv)
        return super().run(argv, call)


STEPS = {
    "new ledger": lambda s, d: s.new_ledger(d / "a.xlsx", window="ZLS02", period="2026-11"),
    "new ledger from last month's": lambda s, d: s.new_ledger(d / "b.xlsx", from_ledger=d / "a.xlsx"),
    "validate and annotate": lambda s, d: s.validate(d / "a.xlsx", "2026-11-24 15:00", annotate=True),
    "validate": lambda s, d: s.validate(d / "a.xlsx", "2026-11-20 17:00"),
    "flag and annotate": lambda s, d: s.flag(d / "a.xlsx", "2026-11-24 10:00", annotate=True),
    "submit": lambda s, d: s.submit(d / "a.xlsx", d / "报送", "2026-12-24 10:00"),
    "consolidate": lambda s, d: s.consolidate(d / "报送", "2026-11", d / "r.xlsx", "2026-11-25 10:00"),
    "consolidate with a PDF": lambda s, d: s.consolidate(d / "报送", "2026-11", d / "r.xlsx", "2026-11-25 10:00",
                                                         pdf=True),
    "notice": lambda s, d: s.notice(d / "报送", "2026-12", "2026-12-25 10:00"),
}


@pytest.mark.parametrize("step", STEPS)
def test_a_demo_step_and_its_command_line_make_the_same_call(step, calls, tmp_path, monkeypatch):
    monkeypatch.delenv("XL_AUTOMATION_CONFIG", raising=False)
    log = _Seen(tmp_path / "运行记录.txt")
    STEPS[step](demo._Steps(log, cfg.load()), tmp_path)
    argv = log.argv
    assert log.path.read_text(encoding="utf-8").startswith(f"$ xl-automation {' '.join(argv)}\n")
    assert cli.main(argv) == 0
    (name_demo, by_demo), (name_cli, by_cli) = calls
    assert name_demo == name_cli and by_demo == by_cli, (argv, by_demo, by_cli)


def test_a_step_that_fails_stops_the_demo_with_its_own_message(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise UsageError("没有编码为 XX 的窗口")
    monkeypatch.setattr(L, "new_ledger", refuse)
    log = demo._Log(tmp_path / "运行记录.txt")
    with pytest.raises(demo.DemoStepFailed, match="new-ledger --window（exit 2）：没有编码为 XX 的窗口"):
        demo._Steps(log, cfg.load()).new_ledger(tmp_path / "a.xlsx", window="XX", period="2026-11")
    assert log.path.read_text(encoding="utf-8").endswith("没有编码为 XX 的窗口\n(exit 2)\n\n")

