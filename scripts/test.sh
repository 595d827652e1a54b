#!/usr/bin/env bash
# Installs the test dependencies on a fresh machine and runs the whole test suite.
# Used as-is by CI (.ci/run). Safe to re-run: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# torch is pinned in pyproject.toml to the CPU build (an unpinned torch pulls a CUDA build).
.venv/bin/pip install --quiet -e '.[test]'

# The browser tests drive Debian's Chromium; CJK fonts let it draw the Chinese pages.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
    else
        echo "note: chromium or fonts-noto-cjk missing and not root; browser tests will be skipped" >&2
    fi
fi

exec .venv/bin/python -m pytest "$@"
