#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, then runs the whole suite.
# Debian packages: LibreOffice (independent spreadsheet engine; Writer for the 通报's PDF), a CJK font (PDF checks),
# poppler (pdffonts, pdftotext, pdftoppm), sqlite3 (the archive read back by an independent tool).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v soffice >/dev/null || need+=(libreoffice-calc)
dpkg -s libreoffice-writer >/dev/null 2>&1 || need+=(libreoffice-writer)   # opens the 通报 .docx for its PDF
/usr/bin/python3 -c 'import uno' 2>/dev/null || need+=(libreoffice-script-provider-python)   # python3-uno: clicks buttons
fc-list 2>/dev/null | grep -qiE "wqy|noto sans cjk" || need+=(fonts-wqy-zenhei)
command -v pdffonts >/dev/null || need+=(poppler-utils)
command -v sqlite3 >/dev/null || need+=(sqlite3)          # the archive tests read it with the sqlite3 tool
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # with recommends: headless PDF export and font configuration come with them
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
# the layers (docs/架构.md): a wrong import between packages fails here, before the tests run
lint-imports --no-cache
# pytest exits 5 when it collects nothing: that fails this script, never a silent pass
python3 -m pytest -q "$@"
