"""Response headers every page sends: no framing (except public shares), a strict CSP.

The CSP allows nothing but this server: no inline script (pages pass data in ``data-*``
attributes or ``application/json`` blocks), no third-party host, so the app also works offline.
"""

from __future__ import annotations

_BASE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'"
)

PAGE_HEADERS = {
    "Content-Security-Policy": _BASE_CSP + "; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

# Public share pages are meant to be embedded anywhere; the token in their URL stays out of
# the Referer sent to other sites.
SHARED_HEADERS = {
    "Content-Security-Policy": _BASE_CSP + "; frame-ancestors *",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def apply(headers: dict[str, str] | object, *, framable: bool = False) -> None:
    """Set the headers on a response's MutableHeaders, unless a handler already chose them
    (a share page's framable set must not get a DENY added on its way out)."""
    if "content-security-policy" in headers:  # type: ignore[operator]
        return
    for name, value in (SHARED_HEADERS if framable else PAGE_HEADERS).items():
        headers[name] = value  # type: ignore[index]
