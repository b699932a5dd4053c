"""The month-end commands' adapters: the parsed arguments to xl_automation.commands.month, its exit code back."""
from __future__ import annotations

from pathlib import Path

from xl_automation.commands import month as M
from xl_automation.commands.edge import parse_now
from xl_automation.commands.progress import for_args


def submit(args) -> int:
    return M.submit(args.config_obj, Path(args.file), Path(args.to), parse_now(args.now), period=args.period,
                    json=args.json)


def consolidate(args) -> int:
    return M.consolidate(args.config_obj, Path(args.dir), args.period, Path(args.out), parse_now(args.now),
                         json=args.json, pdf=args.pdf, show_personal_info=args.show_personal_info,
                         archive=args.archive, no_archive=args.no_archive, progress=for_args(args))


def notice(args) -> int:
    return M.notice(args.config_obj, Path(args.dir), args.period, parse_now(args.now), archive=args.archive,
                    no_archive=args.no_archive, progress=for_args(args))


def history(args) -> int:
    return M.history(args.config_obj, args.place, archive=args.archive, periods=args.periods, period=args.period,
                     windows=args.window, export=args.export, json=args.json,
                     show_personal_info=args.show_personal_info)
