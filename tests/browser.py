"""Headless Chromium for report checks: page width after layout, and screenshots.

Debian's ``chromium`` package; :func:`find_chromium` returns None where it is missing, so the
tests that use it skip with the reason. Each call uses a fresh profile folder and the flags
that work in a container (no sandbox, no GPU, no background networking).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
PROBE = (
    "<script>window.addEventListener('load', function () {"
    "var e = document.documentElement;"
    "document.body.setAttribute('data-scroll-width', e.scrollWidth);"
    "document.body.setAttribute('data-client-width', e.clientWidth);"
    "document.body.setAttribute('data-scroll-height', e.scrollHeight);});</script>"
)


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(binary: str, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="simengine-chromium-") as profile:
        return subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def page_widths(binary: str, html: Path, width: int = 1400) -> dict[str, int]:
    """``scroll_width``, ``client_width`` and ``scroll_height`` of the page after load (px)."""
    probe = html.with_name(html.stem + ".probe.html")
    text = html.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1)
    probe.write_text(text, encoding="utf-8")
    out = _run(
        binary,
        [
            f"--window-size={width},1000",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        ],
    )
    found = dict(re.findall(r'data-(scroll-width|client-width|scroll-height)="(\d+)"', out.stdout))
    if len(found) != 3:
        raise RuntimeError(f"chromium did not report the page size: {out.stderr[-2000:]}")
    return {k.replace("-", "_"): int(v) for k, v in found.items()}


def screenshot(binary: str, html: Path, png: Path, width: int = 1400, height: int = 6000) -> Path:
    """A ``width`` x ``height`` screenshot of the page's top (``#anchor`` URIs scroll first)."""
    out = _run(
        binary,
        [f"--window-size={width},{height}", f"--screenshot={png}", "--virtual-time-budget=10000",
         html.as_uri()],
    )  # fmt: skip
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot: {out.stderr[-2000:]}")
    return png


def ink_share(png: Path) -> float:
    """Share of pixels that are not (near) white: 0 for a blank page."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("L"), dtype=np.float64)
    return float((pixels < 235).mean())
