"""The director's read-only page of the draft awaiting his decision, and its DOCX and PDF."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.concurrency import run_in_threadpool

from reportflow.cycle.drafting.draft_page import draft_context, draft_file
from reportflow.web.refusals import Refused
from reportflow.web.site import READ_ONLY, open_link, page

router = APIRouter()


@router.api_route("/d/{token}", methods=READ_ONLY, response_class=HTMLResponse)
async def draft_page(request: Request, token: str) -> HTMLResponse:
    link = await open_link(request, token)
    context = await run_in_threadpool(draft_context, link)
    return page("draft.html", token=token, **context)


@router.api_route("/d/{token}/du-thao.{suffix}", methods=READ_ONLY)
async def draft_download(request: Request, token: str, suffix: str) -> FileResponse:
    if suffix not in ("docx", "pdf"):
        raise Refused("not_found")
    link = await open_link(request, token)
    path = await run_in_threadpool(draft_file, link, f".{suffix}")
    return FileResponse(
        path,
        filename=f"du-thao.{suffix}",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
