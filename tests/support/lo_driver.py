"""Drive headless LibreOffice over UNO for the macro tests: open a workbook, run a script of steps, report JSON.

Run with the system python that has `uno` (Debian: python3-uno, pulled in by
libreoffice-script-provider-python); tests/excel/test_macros.py starts it as a subprocess.
usage: lo_driver.py WORKBOOK
It prints {"ready": true} once the workbook is open, then reads one JSON step per line on stdin and
answers each with one JSON line on stdout ({"result": ...} or {"error": "..."}); end of input closes.

Steps:
  {"do": "modules"}                        Basic libraries and their modules (from the VBA project)
  {"do": "buttons"}                        every form button: sheet, label, bound script
  {"do": "click_all", "cell": "IV1"}       run each button's script; report what the RunPython double
                                           wrote into the first sheet's cell before the next click
  {"do": "ribbon", "xml": PATH, "cell": "IV1"}  call every onAction with one argument, likewise
  {"do": "run", "macro": "VBAProject.M.Sub"}   run a macro without arguments; its return value
  {"do": "set", "sheet": NAME, "cells": {"H3": "text"}}   set cells: numbers, text, "=..." formulas
  {"do": "block", "sheet": NAME, "row": 1, "column": 1, "rows": [[...]]}  a rectangle in one call
                                           (text, numbers, "=..." formulas; None empties)
  {"do": "note", "sheet": NAME, "cell": "C5", "text": "..."}  add a note
  {"do": "hide_rows", "sheet": NAME, "rows": [6]}          hide rows (1-based)
  {"do": "read", "sheet": NAME, "range": "A1:P20"}         cell texts and formulas
  {"do": "look", "sheet": NAME, "cells": ["C5"]}            background, note text, cell style
  {"do": "store", "path": OUT}             save as xlsx (filter by extension)
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import uno
from com.sun.star.beans import PropertyValue

FILTERS = {".xlsx": "Calc MS Excel 2007 XML", ".xlsm": "Calc MS Excel 2007 VBA XML", ".ods": "calc8"}


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def script_uri(macro):
    return macro if macro.startswith("vnd.sun.star.script:") else \
        f"vnd.sun.star.script:{macro}?language=Basic&location=document"


def calc_formula(excel: str) -> str:
    """='Sheet'!A1:B2 as Excel writes it, in the grammar setFormula takes: =$'Sheet'.A1:B2."""
    return re.sub(r"'((?:[^']|'')+)'!", lambda m: f"$'{m.group(1)}'.", excel)


def excel_formula(calc: str) -> str:
    """The reverse, as Excel's Range.Formula shows it: =$'Sheet'.A1:B2 or =$Sheet.A1 -> ='Sheet'!A1:B2."""
    if not calc.startswith("="):
        return calc

    def ref(m):
        name = m.group(1)[1:-1].replace("''", "'") if m.group(1).startswith("'") else m.group(1)
        return "'{}'!{}".format(name.replace("'", "''"), m.group(2))
    return re.sub(r"\$?('(?:[^']|'')+'|[^.\s'=()!,;:$]+)\.(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)", ref, calc)


def connect(port):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(240):
        try:
            return resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        except Exception:
            time.sleep(0.25)
    raise SystemExit("could not connect to soffice")


def buttons(doc):
    out = []
    sheets = doc.Sheets
    for si in range(sheets.Count):
        sheet = sheets.getByIndex(si)
        forms = sheet.DrawPage.Forms
        for fi in range(forms.Count):
            form = forms.getByIndex(fi)
            for ci in range(form.Count):
                label = getattr(form.getByIndex(ci), "Label", None)
                scripts = [ev.ScriptCode for ev in form.getScriptEvents(ci) if ev.EventMethod == "actionPerformed"]
                out.append({"sheet": sheet.Name, "label": label, "script": scripts[0] if scripts else None})
    return out


def step(doc, s):
    sp = doc.getScriptProvider()
    first = doc.Sheets.getByIndex(0)
    if s["do"] == "modules":
        libs = doc.BasicLibraries
        found = {}
        for name in libs.getElementNames():
            libs.loadLibrary(name)
            found[name] = sorted(libs.getByName(name).getElementNames())
        return found
    if s["do"] == "buttons":
        return buttons(doc)
    if s["do"] in ("click_all", "ribbon"):
        cell = first.getCellRangeByName(s["cell"])
        targets = []
        if s["do"] == "click_all":
            targets = [(b["label"], b["script"], ()) for b in buttons(doc) if b["script"]]
        else:
            for el in ET.parse(s["xml"]).getroot().iter():
                if el.get("onAction"):
                    targets.append((el.get("label"), f"VBAProject.{el.get('onAction')}", (doc,)))
        out = []
        for label, script, args in targets:
            cell.setString("")
            error = None
            try:
                sp.getScript(script_uri(script)).invoke(args, (), ())
            except Exception as e:  # reported, so the test says which button failed
                error = f"{type(e).__name__}: {getattr(e, 'Message', str(e))[:300]}"
            out.append({"label": label, "script": script, "sent": cell.getString(), "error": error})
        return out
    if s["do"] == "run":
        try:
            result = sp.getScript(script_uri(s["macro"])).invoke((), (), ())
            return {"result": result[0] if result else None, "error": None}
        except Exception as e:
            return {"result": None, "error": f"{type(e).__name__}: {getattr(e, 'Message', str(e))[:300]}"}
    if s["do"] == "set":
        sheet = doc.Sheets.getByName(s["sheet"])
        for ref, value in s["cells"].items():
            cell = sheet.getCellRangeByName(ref)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.setValue(value)
            elif isinstance(value, str) and value.startswith("="):
                cell.setFormula(calc_formula(value))
            else:
                cell.setString("" if value is None else str(value))
        return None
    if s["do"] == "note":
        sheet = doc.Sheets.getByName(s["sheet"])
        sheet.getAnnotations().insertNew(sheet.getCellRangeByName(s["cell"]).getCellAddress(), s["text"])
        return None
    if s["do"] == "hide_rows":
        rows = doc.Sheets.getByName(s["sheet"]).getRows()
        for r in s["rows"]:
            rows.getByIndex(r - 1).IsVisible = False
        return None
    if s["do"] == "look":
        sheet = doc.Sheets.getByName(s["sheet"])
        out = {}
        for ref in s["cells"]:
            cell = sheet.getCellRangeByName(ref)
            note = cell.getAnnotation().getString() if cell.getAnnotation() is not None else ""
            out[ref] = {"back": cell.CellBackColor, "transparent": cell.IsCellBackgroundTransparent,
                        "note": note, "style": cell.CellStyle}
        return out
    if s["do"] == "block":
        rows = s["rows"]
        width = max(len(line) for line in rows)
        rng = doc.Sheets.getByName(s["sheet"]).getCellRangeByPosition(
            s["column"] - 1, s["row"] - 1, s["column"] + width - 2, s["row"] + len(rows) - 2)
        rng.setFormulaArray(tuple(tuple(calc_formula(str(v)) if v not in (None, "") else ""
                                        for v in line + [None] * (width - len(line))) for line in rows))
        return None
    if s["do"] == "read":
        rng = doc.Sheets.getByName(s["sheet"]).getCellRangeByName(s["range"])
        # text cells come whole in one call; numbers are asked for as displayed, one by one (there are few)
        texts = [[v if isinstance(v, str) else rng.getCellByPosition(c, r).getString() for c, v in enumerate(line)]
                 for r, line in enumerate(rng.getDataArray())]
        formulas = [[excel_formula(f) for f in line] for line in rng.getFormulaArray()]
        return {"text": texts, "formula": formulas}
    if s["do"] == "store":
        path = os.path.abspath(s["path"])
        doc.storeToURL(uno.systemPathToFileUrl(path), (prop("FilterName", FILTERS[os.path.splitext(path)[1]]),))
        return path
    raise SystemExit(f"unknown step {s['do']}")


def main():
    src = os.path.abspath(sys.argv[1])
    profile = tempfile.mkdtemp(prefix="lo_profile_")
    port = 20000 + os.getpid() % 20000
    proc = subprocess.Popen([
        "soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
        f"-env:UserInstallation=file://{profile}",
        f"--accept=socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desktop = None
    try:
        ctx = connect(port)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        # not Hidden: LibreOffice's VBA layer needs a view for ActiveSheet and friends.
        # MacroExecutionMode 4: always run macros, no prompt (there is no one to answer it).
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0,
                                           (prop("Hidden", False), prop("MacroExecutionMode", 4)))
        if doc is None:
            raise SystemExit(f"LibreOffice could not load {src}")
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                answer = {"result": step(doc, json.loads(line))}
            except Exception as e:  # one failed step is an answer, not the end of the session
                answer = {"error": f"{type(e).__name__}: {getattr(e, 'Message', str(e))[:500]}"}
            print(json.dumps(answer, ensure_ascii=False), flush=True)
        doc.close(True)
    finally:
        try:
            if desktop is not None:
                desktop.terminate()
        except Exception:
            pass
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
