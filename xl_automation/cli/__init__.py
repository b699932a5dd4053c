"""The command line: one thin adapter per command group (`main` parses and owns the one-line error edge)."""
