"""Open a page as a person would: Debian's headless ``chromium``, a screenshot
and the DOM after rendering. Its profile stays under the test's own directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Rendered:
    dom: str
    screenshot: Path


def need_chromium() -> str:
    if CHROMIUM is None:
        pytest.skip("no chromium (Debian: apt-get install chromium)")
    return CHROMIUM


def render(page: Path, work: Path, width: int = 1400, height: int = 2400) -> Rendered:
    """Render ``page`` headless: its DOM (``--dump-dom``) and a screenshot."""
    browser = need_chromium()
    work.mkdir(parents=True, exist_ok=True)
    # Its profile under the test; its singleton socket in the system temporary
    # directory (a Unix socket path must be short), removed when it exits.
    env = dict(os.environ, HOME=str(work))
    common = [
        browser,
        "--headless",
        "--no-sandbox",  # root in CI containers
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={work / 'profile'}",
        f"--window-size={width},{height}",
    ]
    url = page.resolve().as_uri()
    shot = work / "screenshot.png"
    for args in ([f"--screenshot={shot}", url], ["--dump-dom", url]):
        run = subprocess.run(
            [*common, *args], capture_output=True, text=True, timeout=120, env=env, check=False
        )
        assert run.returncode == 0, run.stderr[-2000:]
    return Rendered(run.stdout, shot)


def distinct_colours(png: Path) -> int:
    """How many colours the screenshot has (a blank page has one)."""
    from PIL import Image  # matplotlib's own dependency

    with Image.open(png) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(colours) if colours else 1 << 20
