"""Settings → StatHat import: start one (owners: it makes the server fetch a URL) and watch
the project's latest import, refreshed by htmx every 2 s while it runs."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.errors import InvalidInput
from roost.domain.stathat import DEFAULT_BASE_URL, parse_access_token, parse_base_url
from roost.domain.times import now_ms
from roost.services import stathat_import
from roost.storage.imports import UNFINISHED, ImportRow
from roost.web import pages
from roost.web.pages import PageRoute, field, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

POLL = "every 2s"


async def _latest(request: Request, project_id: int) -> ImportRow | None:
    return await pages.read(
        request, partial(stathat_import.get_import, project_id=project_id, import_id=None)
    )


async def _page(request: Request, *, error: str = "", base_url: str = DEFAULT_BASE_URL) -> Response:
    viewer = await pages.viewer(request)
    job = await _latest(request, viewer.project_id)
    context = {
        "title": "StatHat import · Roost",
        "nav": "settings",
        "section": "import",
        "job": job,
        "running": job is not None and job.state in UNFINISHED,
        "poll": POLL,
        "oob": False,
        "error": error,
        "base_url": base_url,
    }
    return render(
        request, "settings_import.html", context, viewer=viewer, status=422 if error else 200
    )


@router.get("/settings/import")
async def import_page(request: Request) -> Response:
    return await _page(request)


@router.get("/settings/import/progress")
async def import_progress(request: Request) -> Response:
    """The progress panel alone, for htmx's polling; it stops once the job has ended."""
    viewer = await pages.viewer(request)
    job = await _latest(request, viewer.project_id)
    running = job is not None and job.state in UNFINISHED
    context = {"job": job, "running": running, "poll": POLL, "oob": True}
    response = render(request, "_import_progress.html", context, viewer=viewer)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/settings/import")
async def start_import(request: Request) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_owner()
    typed_url = field(data, "base_url") or DEFAULT_BASE_URL
    try:
        token = parse_access_token(field(data, "access_token"))
        base_url = parse_base_url(typed_url)
        row = await pages.store_of(request).write(
            partial(
                stathat_import.create_import,
                project_id=viewer.project_id,
                access_token=token,
                base_url=base_url,
                now=now_ms(),
            )
        )
    except (InvalidInput, stathat_import.ImportRunning) as exc:
        return await _page(request, error=str(exc), base_url=typed_url[:500])
    # The same background runner as POST /v1/import/stathat: woken now, not at its next poll.
    request.app.state.stathat_imports.wake()
    return pages.redirect(
        request, "/settings/import", viewer=viewer, flash=f"Import {row.id} started."
    )
