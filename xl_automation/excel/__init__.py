"""Excel: the buttons' flows, the sheet port, live marks, building the workbooks and their VBA.

The workbooks' macros call `xl_automation.excel.<entry>()` (RunPython); those entry points live in
`excel/app.py`, the only module that imports xlwings. They are looked up here lazily, so importing
`xl_automation.excel.buttons` (as the CLI does) never imports xlwings.
"""
import importlib
import importlib.util


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(name)
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:   # a submodule: import it
        return importlib.import_module(f"{__name__}.{name}")
    return getattr(importlib.import_module(f"{__name__}.app"), name)
