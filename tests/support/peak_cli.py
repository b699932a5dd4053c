"""The CLI, reporting its own peak memory (KB, this process only, not its parsing workers) into the
file named by PEAK_FILE: what tests/xlsx/test_corpus.py bounds.

Linux: VmHWM of this process's own address space. Not ru_maxrss: it carries over the high-water mark of
the process that forked it (a 400 MB pytest would be counted as this CLI's).
"""
import os
import resource
import sys
from pathlib import Path

from xl_automation.cli.main import main


def peak_kb() -> int:
    try:
        status = Path("/proc/self/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    finally:
        Path(os.environ["PEAK_FILE"]).write_text(str(peak_kb()))
    sys.exit(code)
