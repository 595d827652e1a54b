"""Progress bars for long builds, shared by the CLI commands and `assistant eval` (a module of
its own so that neither imports the other for it)."""

from __future__ import annotations

import sys


def progress_bars(enabled: bool):
    """A ProgressFactory drawing one tqdm bar per stage (on stderr)."""
    if not enabled:
        return None
    from tqdm import tqdm

    def factory(label: str, total: int):
        bar = tqdm(total=total, desc=label, unit="text", file=sys.stderr, leave=True)

        def tick(count: int) -> None:
            bar.update(count)
            if bar.n >= total:
                bar.close()

        return tick

    return factory
