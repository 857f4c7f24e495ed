"""The wheel's build hook, and the copy step of ``make web``.

The web app's front-end packages are npm dependencies (package.json, package-lock.json). They
are never committed: ``npm ci`` fetches them into node_modules, and ``copy_vendor`` copies the
files named in package.json's ``roostVendor`` into the git-ignored static/vendor folder. A
wheel build does both when the files are missing, then includes them (hatch leaves
git-ignored files out unless told).

Run as a script (``python hatch_build.py``) it only copies: the Makefile runs ``npm ci`` first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENDOR = ROOT / "src" / "roost" / "web" / "static" / "vendor"
NPM_TIMEOUT_S = 600


def vendor_files() -> dict[str, str]:
    """node_modules path → name in static/vendor."""
    files: dict[str, str] = json.loads((ROOT / "package.json").read_text())["roostVendor"]
    return files


def copy_vendor() -> list[Path]:
    VENDOR.mkdir(parents=True, exist_ok=True)
    copied = []
    for source, name in vendor_files().items():
        target = VENDOR / name
        shutil.copyfile(ROOT / "node_modules" / source, target)
        copied.append(target)
    return copied


def ensure_vendor() -> list[Path]:
    """The vendor files, running ``npm ci`` and the copy first when any is missing."""
    wanted = [VENDOR / name for name in vendor_files().values()]
    if all(path.is_file() for path in wanted):
        return wanted
    if not all((ROOT / "node_modules" / source).is_file() for source in vendor_files()):
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, timeout=NPM_TIMEOUT_S
        )
    return copy_vendor()


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, outside a build
    pass
else:

    class VendorHook(BuildHookInterface):  # type: ignore[misc]
        PLUGIN_NAME = "roost-vendor"

        def initialize(self, version: str, build_data: dict[str, Any]) -> None:
            # An editable install serves static/ from the source tree, filled by `make web`.
            if self.target_name != "wheel" or version == "editable":
                return
            for path in ensure_vendor():
                build_data["force_include"][str(path)] = f"roost/web/static/vendor/{path.name}"


if __name__ == "__main__":
    for path in copy_vendor():
        print(f"copied {path.relative_to(ROOT)}")
