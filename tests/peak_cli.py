"""The CLI, reporting its own peak memory (ru_maxrss, KB, this process only, not its parsing workers)
into the file named by PEAK_FILE: what tests/test_corpus.py bounds."""
import os
import resource
import sys
from pathlib import Path

from xl_automation.cli import main

if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    finally:
        Path(os.environ["PEAK_FILE"]).write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    sys.exit(code)
