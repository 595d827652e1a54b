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

# axe-core (the accessibility checks in tests/browser) comes from npm, pinned by
# tests/browser/package-lock.json; without npm those checks skip, saying why.
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
    if command -v npm >/dev/null 2>&1; then
        # A registry that cannot be reached must not stop the rest of the suite: those checks
        # then skip, saying why.
        npm ci --prefix tests/browser --no-audit --no-fund --silent \
            || echo "note: npm ci failed; the axe-core checks in tests/browser will be skipped" >&2
    else
        echo "note: npm missing; the axe-core checks in tests/browser will be skipped" >&2
    fi
fi

exec .venv/bin/python -m pytest "$@"
