"""Self-contained HTML reports of simulation results and batch stores.

One file, images inline as base64 PNG, no external resources: it opens offline and prints
cleanly. ``render_report(result)`` / ``write_report(result, path)`` for a simulation or a
comparison; ``build_report_from_store(dir)`` / ``write_store_report(dir, path)`` for a batch
store folder.
"""

from __future__ import annotations

from simengine.report.result import find_posterior, render_report, write_report
from simengine.report.store import build_report_from_store, write_store_report

__all__ = [
    "build_report_from_store",
    "find_posterior",
    "render_report",
    "write_report",
    "write_store_report",
]
