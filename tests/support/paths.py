"""Where the tests find the repository and their data, in one place."""
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
CORPUS = TESTS / "corpus"          # real-world spreadsheets (corpus/SOURCES.md)
VBA = TESTS / "vba"                # VBA stand-ins LibreOffice runs instead of xlwings.bas
SUPPORT = TESTS / "support"
