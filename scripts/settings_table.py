"""Write the README's settings table from the Settings fields (assistant/config.py).

    python scripts/settings_table.py          # rewrite the table in README.md
    python scripts/settings_table.py --check  # exit 1 when README.md's table is out of date

The table sits between the two settings-table markers in README.md; tests/test_docs.py fails
when it differs from what this prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.config import settings_table  # noqa: E402

START = "<!-- settings-table: written by scripts/settings_table.py from assistant/config.py -->\n"
END = "<!-- end settings-table -->"


def replace_table(readme: str, table: str) -> str:
    if START not in readme or END not in readme:
        raise SystemExit("README.md has no settings-table markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + START + table + END + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report whether README.md is up to date")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    args = parser.parse_args(argv)
    readme = args.readme.read_text(encoding="utf-8")
    updated = replace_table(readme, settings_table())
    if args.check:
        if updated != readme:
            print(f"{args.readme}: the settings table is out of date; run scripts/settings_table.py", file=sys.stderr)
            return 1
        return 0
    if updated != readme:
        args.readme.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
