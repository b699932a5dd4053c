Attribute VB_Name = "RunPythonStub"
Option Explicit

' Test double for xlwings' RunPython (LibreOffice cannot compile xlwings.bas): records the
' command a button hands to Python in cell IV1 of the first sheet, where the test reads it.
Public Function RunPython(PythonCommand As String)
    ThisWorkbook.Worksheets(1).Range("IV1").Value = PythonCommand
    RunPython = 0
End Function
