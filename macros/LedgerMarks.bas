Attribute VB_Name = "LedgerMarks"
Option Explicit

' Per-cell work for the Python buttons; xl_automation/live_marks.py is the other half.
' Python reads and writes whole ranges in a few COM calls. What can only be done cell by cell --
' reading notes, hidden rows and merged ranges, setting fills and notes -- happens here, in-process,
' where it costs no COM round trip. The two sides talk through the scratch columns H:P of the
' very hidden record sheet (the one annotate.py keeps its record in, columns A:E):
'   PrepareMarks wb   before RunPython: writes what Python cannot read in bulk
'   ApplyMarks wb     after RunPython: carries out the operations Python wrote (if it did), shows its message
' Keep this file ASCII (code page 1252): Chinese text comes from cells or ChrW().

Private Const FIRST_COL As Long = 8          ' H
Private Const SCRATCH_WIDTH As Long = 9      ' H:P
Private Const FIRST_ROW As Long = 3
Private Const CAPTURE_MARK As String = "LedgerMarks 1"
Private Const OPS_MARK As String = "LedgerMarks ops 1"
Private Const XL_NONE As Long = -4142
Private Const XL_SOLID As Long = 1
Private Const XL_CELLS_WITH_NOTES As Long = -4144
Private Const VERY_HIDDEN As Long = 2
Private Const NOTE_CHUNK As Long = 250       ' longer texts are passed to a note in pieces

' The record sheet, "_" and the four characters of jiao yan biao zhu.
Public Function RecordSheetName() As String
    RecordSheetName = "_" & ChrW(&H6821) & ChrW(&H9A8C) & ChrW(&H6807) & ChrW(&H6CE8)
End Function

' Excel's XlPattern constant -> OOXML patternType; "" for fills that cannot be recorded.
Public Function PatternName(ByVal pattern As Long) As String
    Select Case pattern
        Case 1: PatternName = "solid"
        Case -4125: PatternName = "mediumGray"
        Case -4126: PatternName = "darkGray"
        Case -4124: PatternName = "lightGray"
        Case -4128: PatternName = "darkHorizontal"
        Case -4166: PatternName = "darkVertical"
        Case -4121: PatternName = "darkDown"
        Case -4162: PatternName = "darkUp"
        Case 9: PatternName = "darkGrid"
        Case 10: PatternName = "darkTrellis"
        Case 11: PatternName = "lightHorizontal"
        Case 12: PatternName = "lightVertical"
        Case 13: PatternName = "lightDown"
        Case 14: PatternName = "lightUp"
        Case 15: PatternName = "lightGrid"
        Case 16: PatternName = "lightTrellis"
        Case 17: PatternName = "gray125"
        Case 18: PatternName = "gray0625"
        Case Else: PatternName = ""
    End Select
End Function

Public Sub PrepareMarks(wb As Object)
    Dim rs As Object, ws As Object, items As Collection, i As Long
    On Error GoTo failed
    Set rs = RecordSheet(wb)
    ClearScratch rs
    rs.Range(rs.Cells(1, FIRST_COL), rs.Cells(1, FIRST_COL + SCRATCH_WIDTH - 1)).EntireColumn.NumberFormat = "@"
    Set items = New Collection
    items.Add Array("BOOK", wb.Name, Date1904Flag(wb))
    For i = 1 To wb.Worksheets.Count
        Set ws = wb.Worksheets(i)
        items.Add Array("SHEET", ws.Name)
        If ws.Name <> rs.Name Then
            AddHiddenRows items, ws
            AddMergedRanges items, ws
            AddNotes items, ws
        End If
    Next i
    WriteItems rs, items
    rs.Cells(1, FIRST_COL).Value = CAPTURE_MARK
    Exit Sub
failed:
    ' Python finds no capture mark and tells the user; the description helps whoever supports them
    If Not rs Is Nothing Then rs.Cells(1, FIRST_COL).Value = "LedgerMarks error: " & Err.Description
End Sub

Public Sub ApplyMarks(wb As Object)
    Dim rs As Object, v As Variant, r As Long, lastRow As Long
    Dim op As String, title As String, text As String, level As String
    If Not HasSheet(wb, RecordSheetName()) Then Exit Sub
    Set rs = wb.Worksheets(RecordSheetName())
    Application.ScreenUpdating = False       ' one repaint at the end, not one per marked cell
    lastRow = UsedLastRow(rs)
    ' only what Python wrote: after a failed run the scratch still holds the capture
    If CStr(rs.Cells(1, FIRST_COL).Value) = OPS_MARK And lastRow >= FIRST_ROW Then
        v = rs.Range(rs.Cells(FIRST_ROW, FIRST_COL), rs.Cells(lastRow, FIRST_COL + SCRATCH_WIDTH - 1)).Value
        For r = 1 To UBound(v, 1)
            Select Case CStr(v(r, 1))
                Case "RF": RestoreFill wb, v, r
                Case "NOTE": SetNote Target(wb, v, r), CStr(v(r, 4)), Val(v(r, 5)), Val(v(r, 6)), Val(v(r, 7)) = 1
                Case "MARK": MarkCell wb, rs, v, r
                Case "HEAD": AddHeader wb, v, r
            End Select
        Next r
    End If
    op = CStr(rs.Cells(2, FIRST_COL).Value)
    title = CStr(rs.Cells(2, FIRST_COL + 1).Value)
    text = CStr(rs.Cells(2, FIRST_COL + 2).Value)
    level = CStr(rs.Cells(2, FIRST_COL + 3).Value)
    ClearScratch rs
    Application.StatusBar = False
    Application.ScreenUpdating = True
    If op = "MSG" Then
        If level = "info" Then
            MsgBox text, vbInformation, title
        Else
            MsgBox text, vbExclamation, title
        End If
    End If
End Sub

' ---- capture -------------------------------------------------------------------------------

Private Sub AddHiddenRows(items As Collection, ws As Object)
    Dim r As Long, first As Long, last As Long, buf As String, n As Long
    first = ws.UsedRange.Row
    last = first + ws.UsedRange.Rows.Count - 1
    For r = first To last
        If ws.Rows(r).Hidden Then
            buf = buf & "," & CStr(r)
            n = n + 1
            If n = 2000 Then
                items.Add Array("HIDDEN", ws.Name, Mid$(buf, 2))
                buf = ""
                n = 0
            End If
        End If
    Next r
    If n > 0 Then items.Add Array("HIDDEN", ws.Name, Mid$(buf, 2))
End Sub

Private Sub AddMergedRanges(items As Collection, ws As Object)
    Dim r As Long, c As Long, r1 As Long, r2 As Long, c1 As Long, c2 As Long
    Dim merged As Variant, cell As Object
    r1 = ws.UsedRange.Row
    r2 = r1 + ws.UsedRange.Rows.Count - 1
    c1 = ws.UsedRange.Column
    c2 = c1 + ws.UsedRange.Columns.Count - 1
    For r = r1 To r2
        merged = ws.Range(ws.Cells(r, c1), ws.Cells(r, c2)).MergeCells
        If IsNull(merged) Then merged = True
        If merged Then
            For c = c1 To c2
                Set cell = ws.Cells(r, c)
                If cell.MergeCells Then
                    If cell.MergeArea.Row = r And cell.MergeArea.Column = c Then
                        items.Add Array("MERGED", ws.Name, cell.MergeArea.Address(False, False))
                    End If
                End If
            Next c
        End If
    Next r
End Sub

Private Sub AddNotes(items As Collection, ws As Object)
    Dim found As Object, cell As Object, a As Long
    On Error Resume Next                     ' SpecialCells raises when the sheet has no notes
    Set found = ws.UsedRange.SpecialCells(XL_CELLS_WITH_NOTES)
    On Error GoTo 0
    If found Is Nothing Then Exit Sub
    For a = 1 To found.Areas.Count
        For Each cell In found.Areas(a).Cells
            With cell.Comment
                items.Add Array("HASNOTE", ws.Name, cell.Address(False, False), .Author, .Text, _
                                Num(.Shape.Width), Num(.Shape.Height))
            End With
        Next cell
    Next a
End Sub

Private Sub WriteItems(rs As Object, items As Collection)
    Dim out() As Variant, r As Long, c As Long, item As Variant
    If items.Count = 0 Then Exit Sub
    ReDim out(1 To items.Count, 1 To SCRATCH_WIDTH)
    For r = 1 To items.Count
        item = items(r)
        For c = 0 To UBound(item)
            out(r, c + 1) = CStr(item(c))
        Next c
    Next r
    rs.Range(rs.Cells(FIRST_ROW, FIRST_COL), rs.Cells(FIRST_ROW + items.Count - 1, FIRST_COL + SCRATCH_WIDTH - 1)).Value = out
End Sub

' ---- operations ----------------------------------------------------------------------------

Private Function Target(wb As Object, v As Variant, r As Long) As Object
    Set Target = wb.Worksheets(CStr(v(r, 2))).Range(CStr(v(r, 3)))
End Function

' Put the recorded fill back, unless the user has changed the cell's fill since it was marked.
Private Sub RestoreFill(wb As Object, v As Variant, r As Long)
    Dim c As Object
    Set c = Target(wb, v, r)
    If SolidPattern(c) And c.Interior.Color = Val(v(r, 4)) Then
        SetFill c, Val(v(r, 5)), CStr(v(r, 6)), CStr(v(r, 7)), CStr(v(r, 8)), CStr(v(r, 9))
    End If
End Sub

' The cell's fill pattern; XL_NONE when it has no fill. LibreOffice reports every fill's pattern as
' none, so a cell with a colour there counts as solid (in Excel a coloured cell never reports none).
Private Function FillPattern(c As Object) As Long
    If c.Interior.ColorIndex = XL_NONE Then
        FillPattern = XL_NONE
    ElseIf c.Interior.Pattern = XL_NONE Then
        FillPattern = XL_SOLID
    Else
        FillPattern = c.Interior.Pattern
    End If
End Function

Private Function SolidPattern(c As Object) As Boolean
    SolidPattern = (FillPattern(c) = XL_SOLID)
End Function

Private Sub SetFill(c As Object, ByVal pattern As Long, color As String, theme As String, tint As String, _
                    patternColor As String)
    If pattern = XL_NONE Then
        c.Interior.ColorIndex = XL_NONE
        Exit Sub
    End If
    If theme <> "" Then
        c.Interior.ThemeColor = Val(theme)
        c.Interior.TintAndShade = Val(tint)
    ElseIf color <> "" Then
        c.Interior.Color = Val(color)
    End If
    c.Interior.Pattern = pattern
    If pattern <> XL_SOLID And patternColor <> "" Then c.Interior.PatternColor = Val(patternColor)
End Sub

' Record the cell's fill as it is now (into the record row Python named), then mark it.
Private Sub MarkCell(wb As Object, rs As Object, v As Variant, r As Long)
    Dim c As Object
    Set c = Target(wb, v, r)
    rs.Cells(CLng(Val(v(r, 8))), 3).Value = FillXml(c)
    c.Interior.Color = Val(v(r, 4))
    c.Interior.Pattern = XL_SOLID
    If CStr(v(r, 5)) <> "" Then SetNote c, CStr(v(r, 5)), Val(v(r, 6)), Val(v(r, 7)), False
End Sub

' A note with this text ("" removes it). Editing the note that is there keeps its author (VBA cannot
' set one); replaceNote starts a new note when Python says the author must change.
Private Sub SetNote(c As Object, text As String, ByVal w As Double, ByVal h As Double, ByVal replaceNote As Boolean)
    Dim i As Long
    If text = "" Or replaceNote Then c.ClearComments
    If text = "" Then Exit Sub
    If c.Comment Is Nothing Then
        c.AddComment Left$(text, NOTE_CHUNK)
    Else
        c.Comment.Text Left$(text, NOTE_CHUNK)
    End If
    For i = NOTE_CHUNK + 1 To Len(text) Step NOTE_CHUNK
        c.Comment.Text Mid$(text, i, NOTE_CHUNK), i, False
    Next i
    If w > 0 Then c.Comment.Shape.Width = w
    If h > 0 Then c.Comment.Shape.Height = h
    c.Comment.Visible = False
End Sub

' A program column appended right of the table: header text, the look of the last header cell, width.
Private Sub AddHeader(wb As Object, v As Variant, r As Long)
    Dim ws As Object, dst As Object
    Set ws = wb.Worksheets(CStr(v(r, 2)))
    Set dst = ws.Range(CStr(v(r, 3)))
    ws.Range(CStr(v(r, 4))).Copy dst
    dst.ClearComments
    dst.Value = CStr(v(r, 5))
    dst.EntireColumn.ColumnWidth = Val(v(r, 6))
End Sub

' The fill as annotate.py records it: patternFill XML with RGB colours, "" for none.
Private Function FillXml(c As Object) As String
    Dim pattern As Long, patternType As String
    pattern = FillPattern(c)
    If pattern = XL_NONE Then Exit Function
    patternType = PatternName(pattern)
    If patternType = "" Then Exit Function
    If pattern = XL_SOLID Then
        FillXml = "<fill><patternFill patternType=""solid""><fgColor rgb=""" & Argb(c.Interior.Color) _
                  & """/></patternFill></fill>"
    Else
        FillXml = "<fill><patternFill patternType=""" & patternType & """><fgColor rgb=""" _
                  & Argb(c.Interior.PatternColor) & """/><bgColor rgb=""" & Argb(c.Interior.Color) _
                  & """/></patternFill></fill>"
    End If
End Function

' ---- helpers -------------------------------------------------------------------------------

Private Function RecordSheet(wb As Object) As Object
    Dim active As Object, ws As Object
    If HasSheet(wb, RecordSheetName()) Then
        Set RecordSheet = wb.Worksheets(RecordSheetName())
        Exit Function
    End If
    Set active = wb.ActiveSheet
    Set ws = wb.Worksheets.Add(After:=wb.Worksheets(wb.Worksheets.Count))
    ws.Name = RecordSheetName()
    ws.Visible = VERY_HIDDEN
    Set RecordSheet = ws
    On Error Resume Next                     ' adding a sheet activated it; the user's sheet comes back
    active.Activate
End Function

Private Function HasSheet(wb As Object, name As String) As Boolean
    Dim i As Long
    For i = 1 To wb.Worksheets.Count
        If wb.Worksheets(i).Name = name Then
            HasSheet = True
            Exit Function
        End If
    Next i
End Function

Private Sub ClearScratch(rs As Object)
    Dim last As Long
    last = UsedLastRow(rs)
    If last < 2 Then last = 2
    rs.Range(rs.Cells(1, FIRST_COL), rs.Cells(last, FIRST_COL + SCRATCH_WIDTH - 1)).ClearContents
End Sub

' The last row in use (Excel may count rows cleared earlier: harmless, they are empty).
Private Function UsedLastRow(ws As Object) As Long
    UsedLastRow = ws.UsedRange.Row + ws.UsedRange.Rows.Count - 1
End Function

Private Function Date1904Flag(wb As Object) As String
    Dim flag As Boolean
    On Error Resume Next                     ' "" when the host does not say
    flag = wb.Date1904
    If Err.Number <> 0 Then Exit Function
    If flag Then Date1904Flag = "1" Else Date1904Flag = "0"
End Function

' A number as text with a "." whatever the locale (Python reads it back).
Private Function Num(ByVal x As Double) As String
    Num = Trim$(Str$(x))
End Function

Private Function Argb(ByVal bgr As Double) As String
    Dim n As Long
    n = CLng(bgr)
    Argb = "FF" & Right$("0" & Hex$(n And &HFF&), 2) & Right$("0" & Hex$((n \ &H100&) And &HFF&), 2) _
           & Right$("0" & Hex$((n \ &H10000) And &HFF&), 2)
End Function
