"""Exit codes and the one-line usage error: what every entry point (the command line, the Excel
buttons, the demo) and every library function that refuses an argument share."""
from __future__ import annotations

EXIT_OK, EXIT_ERRORS, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """A wrong argument, said in one Chinese line."""
