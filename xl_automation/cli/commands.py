"""The ledger commands' adapters: the parsed arguments to xl_automation.commands.ledger, its exit code back."""
from __future__ import annotations

import sys
from pathlib import Path

from xl_automation.commands import ledger as L
from xl_automation.commands.edge import parse_now
from xl_automation.model.exits import EXIT_UNUSABLE


def new_ledger(args) -> int:
    since = parse_now(args.since, "--since") if getattr(args, "from_ledger", None) and getattr(args, "since", None) else None
    return L.new_ledger(args.config_obj, Path(args.out), window=args.window, period=args.period,
                        from_ledger=Path(args.from_ledger) if getattr(args, "from_ledger", None) else None,
                        since=since, submitted_in=[Path(d) for d in args.submitted_in] if getattr(args, "submitted_in", None) else None)


def validate(args) -> int:
    return L.validate(args.config_obj, Path(args.file), parse_now(args.now), annotate=args.annotate, json=args.json)


def flag(args) -> int:
    return L.flag(args.config_obj, Path(args.file), parse_now(args.now), annotate=args.annotate, json=args.json)


def show_config(args) -> int:
    return L.show_config(args.config_obj, json=args.json)


def build_templates(args) -> int:
    return L.build_templates(args.config_obj, Path(args.out))


def build(args) -> int:
    return L.build(Path(args.root), macros=args.macros)


def demo(args) -> int:
    from xl_automation.demo.run import DemoStepFailed, run_demo
    try:
        return run_demo(Path(args.out), args.config_obj)
    except DemoStepFailed as e:
        print(str(e), file=sys.stderr)
        return EXIT_UNUSABLE
