"""What the tests share: synthetic rows and ledgers, fakes at the xlwings and Windows boundaries, the LibreOffice
session, the corpus mutator, and where things are (paths) and how the CLI is run (cli). Imported as `support.*`
(pyproject.toml puts tests/ on the path); the fixtures every package's tests use are in tests/conftest.py."""
