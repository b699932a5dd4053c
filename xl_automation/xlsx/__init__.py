"""Workbook files: reading ledgers (in isolated workers), probing, annotating by patch, templates, safe writing."""
