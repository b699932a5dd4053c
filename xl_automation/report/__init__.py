"""What the group receives: the report workbook (sheets), the 通报 (Word, charts), PDF and pictures."""
