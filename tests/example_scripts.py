"""The docs' example scripts: a page's ``curl -s …`` lines must be its script's ``call`` lines.

Each ``docs/examples/*.sh`` runs every curl of one page as ``call <status> <curl args>``; these
helpers read both sides so a test can compare them, in order.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from roostserver import roost_server

# The longest an example script may run.
SCRIPT_SECONDS = 120


def shell_commands(text: str) -> list[str]:
    """The commands of a shell text, one string each, whitespace collapsed.

    A command goes on over lines ending in a backslash and over quotes left open (a JSON
    body spread over several lines).
    """
    commands: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped + "\n"
        try:
            shlex.split(current)
        except ValueError:  # a quote is still open
            continue
        commands.append(" ".join(current.split()))
        current = ""
    return commands


def code_blocks(markdown: str) -> str:
    return "\n".join(re.findall(r"```(?:sh|bash)\n(.*?)```", markdown, flags=re.DOTALL))


def page_curl_arguments(page: Path) -> list[str]:
    """The arguments of every ``curl -s`` in a page's sh/bash blocks, in order."""
    commands = shell_commands(code_blocks(page.read_text(encoding="utf-8")))
    return [command.removeprefix("curl -s ") for command in commands if command.startswith("curl ")]


def script_call_arguments(script: Path) -> list[str]:
    """The curl arguments of every ``call <status> …`` of an example script, in order."""
    commands = shell_commands(script.read_text(encoding="utf-8"))
    return [re.sub(r"^call \d{3} ", "", c) for c in commands if re.match(r"call \d{3} ", c)]


def run_against_server(
    script: Path, env: dict[str, str], key: str, log: Path, **script_env: str
) -> str:
    """Run an example script against a fresh ``roost serve`` (``env`` its settings) with BASE,
    KEY and PYTHON set, plus ``script_env`` (where ``{BASE}`` stands for the server's URL);
    fail with both outputs and the server log, or return what the script printed."""
    assert shutil.which("curl"), "the examples need curl: apt-get install -y curl"
    with roost_server(env, log) as server:
        result = subprocess.run(
            ["bash", str(script)],
            env={
                **env,
                "BASE": server.base_url,
                "KEY": key,
                "PYTHON": sys.executable,
                **{
                    name: value.replace("{BASE}", server.base_url)
                    for name, value in script_env.items()
                },
            },
            capture_output=True,
            text=True,
            timeout=SCRIPT_SECONDS,
        )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{log.read_text()}"
    return result.stdout.rstrip()
