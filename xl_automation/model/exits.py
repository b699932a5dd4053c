"""Exit codes and the one-line usage error: what every entry point (the command line, the Excel
buttons, the demo) and every library function that refuses an argument share."""
from __future__ import annotations

EXIT_OK, EXIT_ERRORS, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """A wrong argument, said in one Chinese line."""


def path_shape_message(exc: OSError) -> str | None:
    """One Chinese line for a path that is a file where a folder is needed, or the other way round (an output
    folder typed as an existing file's name, a file under another file); None for any other error."""
    where = exc.filename or ""
    if isinstance(exc, FileExistsError):
        return f"{where} 已是一个文件，不能用作文件夹：请换一个文件夹，或先把这个文件移走"
    if isinstance(exc, NotADirectoryError):
        return f"{where} 的路径中有一段是文件而不是文件夹：请换一个位置"
    if isinstance(exc, IsADirectoryError):
        return f"{where} 是一个文件夹，这里需要文件名：请在后面加上文件名"
    return None
