"""Progress bars and tables for the researchers' commands (``rich``, from the ``sim`` extra).

Progress goes to stderr, one bar per phase (setup, join, publish, lookup, churn, sweep); tables go to
stdout. Without ``rich`` installed both fall back to plain text (a line per phase at each tenth, and
aligned columns), so ``metaspace sim`` still works from a bare install. ``--json`` output never goes
through here: it stays one object on stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import TracebackType
from typing import Any, TextIO


class PhaseProgress:
    """A ``progress(phase, done, total)`` callable drawing one bar per phase; use it as a context manager.

    Args:
        stream: where bars go (default stderr).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._plain_step: dict[str, int] = {}
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
        except ImportError:  # pragma: no cover - rich is in the sim extra
            return
        self._progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=self.stream),
        )

    def __enter__(self) -> PhaseProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop drawing (idempotent)."""
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self._progress is not None:
            task = self._tasks.get(phase)
            if task is None:
                task = self._tasks[phase] = self._progress.add_task(phase, total=total)
            self._progress.update(task, completed=done, total=total)
            return
        pct = 100 if total <= 0 else done * 100 // total
        tenth = pct // 10
        if self._plain_step.get(phase, -1) < tenth:
            self._plain_step[phase] = tenth
            self.stream.write(f"{phase:<10} {pct:3d}% {done}/{total}\n")
            self.stream.flush()


def print_table(
    rows: Sequence[Sequence[Any]], headers: Sequence[str], title: str = "", stream: TextIO | None = None
) -> None:
    """Print a table to stdout (``rich`` if installed, aligned plain text otherwise).

    Args:
        rows: the cells, row by row (converted with ``str``; None prints as "-").
        headers: column titles.
        title: a line above the table.
        stream: where to print (default stdout).
    """
    out = stream if stream is not None else sys.stdout
    cells = [["-" if v is None else str(v) for v in row] for row in rows]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is in the sim extra
        widths = [
            max(len(h), *(len(r[j]) for r in cells)) if cells else len(h) for j, h in enumerate(headers)
        ]
        if title:
            out.write(title + "\n")
        out.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + "\n")
        for r in cells:
            out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + "\n")
        return
    table = Table(title=title or None, title_justify="left")
    figures = len(headers) == 2  # a figure/value table: long text values, left aligned
    for j, h in enumerate(headers):
        table.add_column(
            h,
            justify="left" if j == 0 or figures else "right",
            overflow="fold",
            min_width=None if figures else len(h),
        )
    for r in cells:
        table.add_row(*r)
    console = Console(file=out)
    if not console.is_terminal:  # a file or a pipe: never fold or crop a wide table
        console = Console(file=out, width=240)
    console.print(table)


def format_value(key: str, value: Any) -> str:
    """A figure for a table: fractions with 4 decimals, other floats short, None as "-"."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if key in ("lookup_success", "publish_ok", "record_availability") or key.startswith("availability"):
            return f"{value:.4f}"
        return f"{value:g}"
    return str(value)
