"""Shared pieces of the command line: consoles, a progress bar that appears after a second,
help text that wraps to the terminal."""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

__all__ = [
    "console",
    "err_console",
    "exit_reader_gone",
    "progress_bar",
    "reflow_help",
    "reflow_paragraphs",
]


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


def reflow_paragraphs(text: str) -> str:
    """``text`` with each paragraph on one line, so the terminal wraps it (rich keeps a
    docstring's own line breaks, which at 80 columns leaves every other line a stub).

    Paragraphs are separated by blank lines; a line that starts a list item (``-``, ``*``,
    ``1.``) or is indented keeps its break; text after a ``\\f`` line (help cut-off) is dropped.
    """
    text = inspect.cleandoc(text).partition("\f")[0]
    out = []
    for para in text.split("\n\n"):
        lines = para.splitlines()
        joined = lines[:1]
        for line in lines[1:]:
            if line.startswith((" ", "-", "*")) or line.split(" ", 1)[0].rstrip(".").isdigit():
                joined.append(line)
            else:
                joined[-1] = f"{joined[-1]} {line.strip()}"
        out.append("\n".join(joined))
    return "\n\n".join(out).strip()


def reflow_help(app: typer.Typer) -> None:
    """Give every command of ``app`` (and of its groups) its docstring reflowed as help
    (:func:`reflow_paragraphs`), unless it was given a help text."""
    for info in app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = reflow_paragraphs(info.callback.__doc__)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)
