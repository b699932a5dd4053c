"""The tools beside the tests (bench/) answer --help with their usage, as the working rules tell helpers to ask."""
import subprocess
import sys

from support.paths import ROOT


def test_compare_demo_help_is_its_usage_not_a_git_revision():
    done = subprocess.run([sys.executable, "bench/compare_demo.py", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: python bench/compare_demo.py [REV]" in done.stdout and "Traceback" not in done.stderr
