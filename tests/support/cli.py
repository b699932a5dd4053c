"""The command line as users run it: `python -m xl_automation ARGS` in a real subprocess."""
import subprocess
import sys

from support.paths import ROOT


def run(*args, cwd=None, timeout=600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xl_automation", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=timeout, **kw)
