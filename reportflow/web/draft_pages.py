"""The director's page of the draft awaiting his decision: the draft, its DOCX and PDF, and the
decision form that sends through the same function as the Prefect form; then the page that
follows the run after his decision."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from reportflow.core.errors import UserError
from reportflow.cycle.deciding.decision_page import (
    PageAnswer,
    decide_on_page,
    decision_context,
    decision_progress,
    max_form_fields,
    read_answer,
)
from reportflow.cycle.drafting.draft_page import draft_context, draft_file
from reportflow.cycle.links import Link
from reportflow.runtime.prefect_api import run_state_or_none
from reportflow.web.refusals import Refused
from reportflow.web.site import READ_ONLY, csrf_token, open_link, page, read_form

router = APIRouter()

DECISION_FORM_BYTES = 256_000
"""The decision form carries comments only (each at most a few thousand characters)."""
FOLLOW_EVERY_S = 3


async def _draft_page(
    link: Link, token: str, answer: PageAnswer | None = None, problem: str = ""
) -> HTMLResponse:
    context = await run_in_threadpool(draft_context, link)
    context |= await run_in_threadpool(decision_context, link, answer)
    return page(
        "draft.html",
        422 if problem else 200,
        token=token,
        csrf=csrf_token(link),
        problem=problem,
        **context,
    )


@router.api_route("/d/{token}", methods=READ_ONLY, response_class=HTMLResponse)
async def draft_page(request: Request, token: str) -> HTMLResponse:
    return await _draft_page(await open_link(request, token), token)


@router.post("/d/{token}/quyet-dinh", response_class=HTMLResponse)
async def decide(request: Request, token: str) -> Response:
    link = await open_link(request, token)
    fields = await run_in_threadpool(max_form_fields, link)
    form = await read_form(request, link, max_fields=fields, max_bytes=DECISION_FORM_BYTES)
    answer = PageAnswer()
    try:
        answer = read_answer(form.multi_items())
        await run_in_threadpool(decide_on_page, link, answer)
    except UserError as exc:
        return await _draft_page(link, token, answer, str(exc))
    return RedirectResponse(f"/d/{token}/ket-qua", status_code=303)


@router.api_route("/d/{token}/ket-qua", methods=READ_ONLY, response_class=HTMLResponse)
async def decided(request: Request, token: str) -> HTMLResponse:
    link = await open_link(request, token)
    context = await run_in_threadpool(decision_progress, link, run_state_or_none)
    return page("decided.html", token=token, refresh_s=FOLLOW_EVERY_S, **context)


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
