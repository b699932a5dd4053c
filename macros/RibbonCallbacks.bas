Attribute VB_Name = "RibbonCallbacks"
Option Explicit

' onAction callbacks of the add-in's ribbon tab (customUI14.xml: onAction="RibbonCallbacks.OnValidate").
' The add-in holds the code; the buttons act on the workbook the user has in front of them, so
' Python is told book='active' and LedgerMarks works on ActiveWorkbook.
' IRibbonControl comes from the Office type library the project references.
' Keep this file ASCII (code page 1252).

Public Sub OnValidate(control As IRibbonControl)
    If ActiveWorkbook Is Nothing Then Exit Sub
    PrepareMarks ActiveWorkbook
    RunPython "import xl_automation.excel as x; x.validate(book='active')"
    ApplyMarks ActiveWorkbook
End Sub

Public Sub OnFlagOverdue(control As IRibbonControl)
    If ActiveWorkbook Is Nothing Then Exit Sub
    PrepareMarks ActiveWorkbook
    RunPython "import xl_automation.excel as x; x.flag_overdue(book='active')"
    ApplyMarks ActiveWorkbook
End Sub

Public Sub OnRegister(control As IRibbonControl)
    If ActiveWorkbook Is Nothing Then Exit Sub
    RunPython "import xl_automation.excel as x; x.register_from_form(book='active')"
End Sub

Public Sub OnSubmit(control As IRibbonControl)
    If ActiveWorkbook Is Nothing Then Exit Sub
    RunPython "import xl_automation.excel as x; x.submit(book='active')"
End Sub

Public Sub OnConsolidate(control As IRibbonControl)
    If ActiveWorkbook Is Nothing Then Exit Sub
    RunPython "import xl_automation.excel as x; x.consolidate(book='active')"
End Sub

Public Sub OnDoctor(control As IRibbonControl)
    If ActiveWorkbook Is Nothing Then Exit Sub
    RunPython "import xl_automation.excel as x; x.doctor(book='active')"
End Sub
