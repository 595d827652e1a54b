"""Progress bars for long builds, shared by the CLI commands and `assistant eval` (a module of
its own so that neither imports the other for it)."""

from __future__ import annotations

import sys


def progress_bars(enabled: bool):
    """A ProgressFactory: one tqdm bar per stage on a terminal; on any other stderr (a log file,
    a pipe), one plain line as each stage starts, which a log can hold and a reader can follow."""
    if not enabled:
        return None
    if not sys.stderr.isatty():
        def stage_line(label: str, total: int):
            print(f"{label}: {total} texts", file=sys.stderr, flush=True)
            return lambda count: None

        return stage_line
    from tqdm import tqdm

    def factory(label: str, total: int):
        bar = tqdm(total=total, desc=label, unit="text", file=sys.stderr, leave=True)

        def tick(count: int) -> None:
            bar.update(count)
            if bar.n >= total:
                bar.close()

        return tick

    return factory
