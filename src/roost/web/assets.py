"""Static files: our own CSS/JS and the npm packages copied into ``static/vendor``.

URLs carry a short content hash (``?v=…``) so browsers may cache them for a long time and
still see a new release at once.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
# What the pages load; the vendor files come from package.json (see the Makefile's web step).
STYLES = ("vendor/uPlot.min.css", "app.css")
SCRIPTS = ("vendor/htmx.min.js", "vendor/uPlot.iife.min.js", "app.js")


@cache
def version(name: str) -> str:
    path = STATIC_DIR / name
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    except OSError:
        return "missing"


def url(name: str) -> str:
    return f"/static/{name}?v={version(name)}"


def missing_vendor_files() -> list[str]:
    return [name for name in (*STYLES, *SCRIPTS) if not (STATIC_DIR / name).is_file()]
