"""Where the repository and the test data are, for tests at any depth under tests/ (and for
scripts): one definition instead of `Path(__file__).parents[n]` counted per file."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
