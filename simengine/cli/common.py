"""Shared pieces of the command line: consoles, a progress bar that appears after a second."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

__all__ = ["console", "err_console", "exit_reader_gone", "progress_bar"]


def exit_reader_gone() -> None:
    """End the process with 141 (128 + SIGPIPE), silently, when stdout's reader has gone away
    (``simengine ... | head``), like any Unix tool. stdout is pointed at /dev/null first so that
    the interpreter's final flush cannot fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(141)


class _Console(Console):
    """rich's console, except that a reader who went away ends the process with 141
    (:func:`exit_reader_gone`), not rich's 1."""

    def on_broken_pipe(self) -> None:
        exit_reader_gone()


console = _Console()
err_console = _Console(stderr=True)
SHOW_AFTER_S = 1.0


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator:
    """Yield a ``callback(done, total)`` that shows a rich progress bar once work has run 1 s.

    Short runs print nothing; long ones get a bar with a time estimate (on stderr, so JSON on
    stdout stays clean).
    """
    start = time.monotonic()
    state: dict = {"bar": None, "task": None}

    def update(done: int, total: int) -> None:
        if not enabled:
            return
        if state["bar"] is None:
            if time.monotonic() - start < SHOW_AFTER_S and done < total:
                return
            if done >= total:
                return
            from rich.progress import (  # here: start-up of commands without a bar
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task(description, total=total)
        state["bar"].update(state["task"], completed=done, total=total)

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].stop()
