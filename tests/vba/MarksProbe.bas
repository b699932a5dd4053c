Attribute VB_Name = "MarksProbe"
Option Explicit

' Test entry points without arguments (a script invoked over UNO cannot pass a VBA Workbook).
Public Sub ProbePrepare()
    PrepareMarks ThisWorkbook
End Sub

Public Sub ProbeApply()
    ApplyMarks ThisWorkbook
End Sub

Public Function ProbeRecordName() As String
    ProbeRecordName = RecordSheetName()
End Function
