"""A traceback's frames laid out for reading: file, line, function, and the code line.

Python tracebacks, JavaScript stacks (V8 and Firefox) and Java stack traces are recognised;
any other line is kept as text, so nothing a client sent is hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PYTHON = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
_V8 = re.compile(r"^\s*at (?:(?P<func>.+?) \()?(?P<file>[^()\s]+?):(?P<line>\d+)(?::\d+)?\)?$")
_FIREFOX = re.compile(r"^(?P<func>[^@\s]*)@(?P<file>.+?):(?P<line>\d+)(?::\d+)?$")
_JAVA = re.compile(r"^\s*at (?P<func>[\w$.<>]+)\((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True, slots=True)
class Frame:
    file: str
    line: str
    function: str
    code: str


@dataclass(frozen=True, slots=True)
class Layout:
    frames: list[Frame]
    other: list[str]  # the lines that are not frames: headings and the message


def lay_out(text: str) -> Layout:
    frames: list[Frame] = []
    other: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        found = _PYTHON.match(line)
        if found:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            code = ""
            # Python prints the code line indented under its frame.
            if following.startswith("    ") and not _PYTHON.match(following):
                code = following.strip()
                index += 1
            frames.append(Frame(found["file"], found["line"], found["func"] or "", code))
        else:
            found = _JAVA.match(line) or _V8.match(line) or _FIREFOX.match(line)
            if found:
                frames.append(Frame(found["file"], found["line"] or "", found["func"] or "", ""))
            elif line.strip():
                other.append(line)
        index += 1
    return Layout(frames, other)
