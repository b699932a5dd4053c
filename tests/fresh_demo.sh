#!/usr/bin/env bash
# The README's demo command exactly as written, on a fresh clone of HEAD in a new venv that holds
# nothing but what that command installs. Fails on a non-zero exit or an internal error in the output,
# so a green CI can never hide a missing install step (a dependency only the test extras bring in).
set -euo pipefail
top=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git clone -q "$top" "$scratch/project"
cmd=$(python3 - "$scratch/project/README.md" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for block in re.findall(r"```(?:bash|sh)?\n(.*?)```", text, re.S):
    for line in block.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and " demo" in line:
            print(line); sys.exit(0)
sys.exit("README.md has no demo command in a code block")
PY
)
python3 -m venv "$scratch/venv"
export PATH="$scratch/venv/bin:$PATH" VIRTUAL_ENV="$scratch/venv"
unset PYTHONPATH
cd "$scratch/project"
echo "fresh clone of $(git rev-parse --short HEAD), new venv: $cmd"
if bash -c "$cmd" >"$scratch/out.txt" 2>&1 && ! grep -qE "内部错误|Traceback" "$scratch/out.txt"; then
  tail -n 3 "$scratch/out.txt"; echo "fresh demo: ok"
else
  tail -n 30 "$scratch/out.txt"; echo "fresh demo: FAILED (the README's demo command on a fresh machine)"; exit 1
fi
