Attribute VB_Name = "LedgerButtons"
Option Explicit

' The buttons on the branch ledger (xl_automation/build.py places them; captions are in Chinese there).
' Each hands its work to Python through xlwings' RunPython (module xlwings, from the pinned xlwings
' version); xl_automation.excel does exactly what the command line does. Buttons that write marks
' into the ledger are wrapped by LedgerMarks, which does the per-cell part in-process.
' Keep this file ASCII (code page 1252).

Public Sub ValidateLedger()
    PrepareMarks ThisWorkbook
    RunPython "import xl_automation.excel as x; x.validate()"
    ApplyMarks ThisWorkbook
End Sub

Public Sub FlagOverdue()
    PrepareMarks ThisWorkbook
    RunPython "import xl_automation.excel as x; x.flag_overdue()"
    ApplyMarks ThisWorkbook
End Sub

Public Sub RegisterContactForm()
    RunPython "import xl_automation.excel as x; x.register_from_form()"
End Sub

Public Sub SubmitLedger()
    RunPython "import xl_automation.excel as x; x.submit()"
End Sub
