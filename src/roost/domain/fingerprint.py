"""Group exception reports: the same bug gives the same fingerprint wherever it was raised from.

A report is the text a client sent (``traceback.format_exc()`` from HawkFlow's Python client,
``error.stack`` from JavaScript, ``printStackTrace()`` from Java). The fingerprint hashes the
exception type and the stack's frames reduced to (file, function): line and column numbers,
memory addresses, ids and other numbers are dropped, because they change with every edit, every
run or every request while the bug stays the same. Messages are not hashed when there is a
stack (they carry values: "user 123 not found"); without a stack the normalised message is all
there is to go on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# How many frames, counted from where the exception was raised, identify a bug. Deeper frames
# (the framework's dispatch, the event loop) say more about the caller than about the bug.
MAX_FRAMES = 12
MAX_TYPE = 250
MAX_MESSAGE = 500

_PYTHON_FRAME = re.compile(r'^\s*File "(?P<file>[^"]*)", line \d+(?:, in (?P<func>.+))?\s*$')
_PYTHON_HEADER = re.compile(r"^Traceback \(most recent call last\):\s*$")
_PYTHON_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")

# V8 ("    at fn (file:1:2)", "    at file:1:2", "    at async fn (file:1:2)") and
# SpiderMonkey/JavaScriptCore ("fn@file:1:2").
_JS_FRAME_V8 = re.compile(r"^\s*at (?:async )?(?:(?P<func>[^(]+?) \((?P<loc>.*)\)|(?P<bare>\S.*))$")
_JS_FRAME_GECKO = re.compile(r"^\s*(?P<func>[^@\s]*)@(?P<loc>\S+:\d+(?::\d+)?)\s*$")
_JS_EXCEPTION = re.compile(r"^(?:Uncaught )?(?P<type>[A-Za-z_$][\w$.]*)(?::\s?(?P<message>.*))?$")

# Java: "\tat com.acme.Foo.bar(Foo.java:42)"; the first line is "<type>: <message>", possibly
# after "Exception in thread "main" ".
_JAVA_FRAME = re.compile(r"^\s*at (?P<func>[\w$.<>/]+)\((?P<loc>[^)]*)\)\s*$")
_JAVA_EXCEPTION = re.compile(
    r'^(?:Exception in thread "[^"]*" )?'
    r"(?P<type>[a-zA-Z_$][\w$]*(?:\.[\w$]+)+)(?::\s?(?P<message>.*))?$"
)

_LOCATION_SUFFIX = re.compile(r"(?::\d+)+$")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
_HEX_RUN = re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_URL_QUERY = re.compile(r"[?#].*$")
# Interpreter and package-manager prefixes differ between machines and deploys.
_INSTALL_ROOT = re.compile(r"^.*?/(?:site-packages|dist-packages|node_modules)/")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    hash: str  # hex SHA-256 of the normalised type and frames
    type: str  # e.g. "ValueError", "TypeError", "java.lang.IllegalStateException"
    message: str  # first line of the message, for people
    frames: tuple[str, ...]  # normalised "file:function", innermost first


def fingerprint(text: str, *, scope: str = "") -> Fingerprint:
    """The fingerprint of a report; ``scope`` (e.g. the process name) is hashed in too."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    parsed = _parse_python(lines) or _parse_java(lines) or _parse_javascript(lines)
    if parsed is None:
        exc_type, message, frames = _parse_plain(lines)
    else:
        exc_type, message, frames = parsed
    exc_type = exc_type[:MAX_TYPE]
    message = message.strip()[:MAX_MESSAGE]
    material = [exc_type, *frames] if frames else [exc_type, _normalise_text(message)]
    digest = hashlib.sha256("\n".join([scope, *material]).encode()).hexdigest()
    return Fingerprint(digest, exc_type, message, tuple(frames))


Parsed = tuple[str, str, list[str]]


def _parse_python(lines: list[str]) -> Parsed | None:
    """The last exception of a (possibly chained) Python traceback: the one that escaped."""
    headers = [i for i, line in enumerate(lines) if _PYTHON_HEADER.match(line)]
    if not headers:
        return None
    block = lines[headers[-1] + 1 :]
    frames: list[str] = []
    exc_type, message = "Exception", ""
    for index, line in enumerate(block):
        frame = _PYTHON_FRAME.match(line)
        if frame:
            frames.append(_frame(frame["file"], frame["func"] or ""))
            continue
        if line.startswith((" ", "\t")) or not line.strip():
            continue  # source lines, carets, blank lines
        found = _PYTHON_EXCEPTION.match(line.strip())
        if found:
            exc_type = found["type"]
            message = found["message"] or ""
            # A multi-line message continues until the chained-exception banner, if any.
            rest = [extra for extra in block[index + 1 :] if extra.strip()]
            if not message and rest and not _PYTHON_HEADER.match(rest[0]):
                message = rest[0]
            break
    frames.reverse()  # innermost first, like the other languages
    return exc_type, message, frames[:MAX_FRAMES]


def _parse_java(lines: list[str]) -> Parsed | None:
    frames = [m for m in (_JAVA_FRAME.match(line) for line in lines) if m]
    if not frames or not lines or not lines[0].strip():
        return None
    head = _JAVA_EXCEPTION.match(lines[0].strip())
    if head is None:
        return None
    # Only the top exception's frames: "Caused by:" sections repeat the same stack.
    own: list[str] = []
    for line in lines[1:]:
        if line.lstrip().startswith("Caused by:"):
            break
        found = _JAVA_FRAME.match(line)
        if found:
            qualified = found["func"]
            cls, _, method = qualified.rpartition(".")
            own.append(_frame(cls, method))
    return head["type"], head["message"] or "", own[:MAX_FRAMES]


def _parse_javascript(lines: list[str]) -> Parsed | None:
    frames: list[str] = []
    head_line: str | None = None
    for line in lines:
        v8 = _JS_FRAME_V8.match(line)
        if v8 and (v8["loc"] or v8["bare"]):
            location = v8["loc"] or v8["bare"]
            frames.append(_frame(_strip_location(location), v8["func"] or "<anonymous>"))
            continue
        gecko = _JS_FRAME_GECKO.match(line)
        if gecko:
            frames.append(_frame(_strip_location(gecko["loc"]), gecko["func"] or "<anonymous>"))
        elif head_line is None and not frames and line.strip():
            head_line = line.strip()  # "TypeError: …" (V8 puts it first; Firefox omits it)
    if not frames:
        return None
    head = _JS_EXCEPTION.match(head_line) if head_line else None
    exc_type = head["type"] if head else "Error"
    message = (head["message"] or "") if head else (head_line or "")
    return exc_type, message, frames[:MAX_FRAMES]


def _parse_plain(lines: list[str]) -> Parsed:
    """No stack: a bare "Type: message" line, or just text."""
    first = next((line.strip() for line in lines if line.strip()), "")
    found = _PYTHON_EXCEPTION.match(first)
    if found and found["message"] is not None:
        return found["type"], found["message"], []
    return "Error", first, []


def _strip_location(location: str) -> str:
    """``https://x/app.js?v=3:10:5`` → ``https://x/app.js``."""
    return _URL_QUERY.sub("", _LOCATION_SUFFIX.sub("", location.strip()))


def _frame(file: str, function: str) -> str:
    path = _INSTALL_ROOT.sub("", file.replace("\\", "/"))
    # Keep the last two path segments: enough to tell modules apart, independent of where the
    # code was checked out or installed.
    path = "/".join(path.rsplit("/", 2)[-2:])
    return f"{_normalise_name(path)}:{_normalise_name(function.strip())}"


def _normalise_name(name: str) -> str:
    """Drop what varies between builds and runs: addresses, hex ids, numbered lambdas."""
    name = _ADDRESS.sub("0x", name)
    name = _HEX_RUN.sub("<hex>", name)
    return _NUMBER.sub("0", name)


def _normalise_text(text: str) -> str:
    text = _UUID.sub("<uuid>", text)
    text = _ADDRESS.sub("0x", text)
    text = _HEX_RUN.sub("<hex>", text)
    text = _QUOTED.sub("<str>", text)
    return _NUMBER.sub("0", text).strip().lower()
