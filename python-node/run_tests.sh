#!/usr/bin/env bash
# Set up (quick when nothing changed), lint (ruff), type check (mypy) and run the python-node tests. Extra arguments go to pytest.
# Exits non-zero on any failure, including pytest's exit 5 ("no tests collected").
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh" || exit $?
cd "$here" || exit 1
# Lint and type check first (ruff.toml, mypy.ini): both are part of the test command.
"$here/.venv/bin/ruff" check . || exit 1
"$here/.venv/bin/ruff" format --check . || exit 1
"$here/.venv/bin/mypy" . || exit 1
"$here/.venv/bin/python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "run_tests.sh: error: pytest collected no tests" >&2
    exit 1
fi
exit "$rc"
