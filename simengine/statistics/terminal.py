"""Every path's terminal return, kept when a run asks for it (custom payoffs).

Only registered when ``RunConfig.keep_terminal`` is set (``simulate(..., keep_terminal=True)``):
it stores 8 bytes per path and series, so :data:`simengine.api.MAX_KEPT_PATHS` bounds it.
"""

from __future__ import annotations

import numpy as np

from simengine.statistics.base import ChunkPaths, State, Statistic, Variable

__all__ = ["TerminalReturns"]


class TerminalReturns(Statistic):
    """Simple cumulative return to the horizon of every path, in path order.

    Merging two states of adjacent path ranges concatenates them by their first path index
    (``terminal_first``), so the array does not depend on chunking or thread order.
    """

    name = "terminal_returns"

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (Variable("terminal_returns", ("path", "series")),)

    def update(self, chunk: ChunkPaths) -> State:
        return {
            "terminal_returns": np.ascontiguousarray(chunk.terminal.T),
            "terminal_first": np.array(chunk.first_path),
        }

    def merge(self, a: State, b: State) -> State:
        first, second = (a, b) if a["terminal_first"] <= b["terminal_first"] else (b, a)
        joined = np.concatenate([first["terminal_returns"], second["terminal_returns"]])
        return {"terminal_returns": joined, "terminal_first": first["terminal_first"]}
