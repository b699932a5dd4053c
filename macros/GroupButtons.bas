Attribute VB_Name = "GroupButtons"
Option Explicit

' The button on the group marketing centre's workbook (xl_automation/build.py places it).
' The submissions folder, period and report file come from the settings on its sheet.
' Keep this file ASCII (code page 1252).

Public Sub ConsolidateSubmissions()
    RunPython "import xl_automation.excel as x; x.consolidate()"
End Sub

' Why a button does nothing: the same checks as xl-automation doctor, in a message box.
' If this button itself does nothing, Python is not reached at all: run the bundle's check .cmd file.
Public Sub CheckEnvironment()
    RunPython "import xl_automation.excel as x; x.doctor()"
End Sub
