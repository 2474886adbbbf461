"""The director's page of the draft awaiting his decision: the draft, its DOCX and PDF, and the
decision form that sends through the same function as the Prefect form; then the page that
follows the run after his decision, where a signer who signs on his own PC takes the prepared
PDF and sends his signed file back."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

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
from reportflow.cycle.issuing.signature_waits import awaits_own_signature
from reportflow.cycle.issuing.signing import file_to_sign, take_signed_file
from reportflow.cycle.links import Link
from reportflow.services.prefect_api import run_state_or_none
from reportflow.signatures.verification import MAX_PDF_BYTES
from reportflow.web.refusals import Refused
from reportflow.web.site import READ_ONLY, csrf_token, open_link, page, read_form

router = APIRouter()

DECISION_FORM_BYTES = 256_000
"""The decision form carries comments only (each at most a few thousand characters)."""
SIGNED_FORM_BYTES = MAX_PDF_BYTES + 64_000
"""The signed PDF and the CSRF field."""
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


async def _decided_page(link: Link, token: str, problem: str = "") -> HTMLResponse:
    context = await run_in_threadpool(decision_progress, link, run_state_or_none)
    own = await run_in_threadpool(awaits_own_signature, link.cycle_id, link.person_code)
    return page(
        "decided.html",
        422 if problem else 200,
        token=token,
        refresh_s=FOLLOW_EVERY_S,
        own_signing=own,
        csrf=csrf_token(link),
        problem=problem,
        **context,
    )


@router.api_route("/d/{token}/ket-qua", methods=READ_ONLY, response_class=HTMLResponse)
async def decided(request: Request, token: str) -> HTMLResponse:
    return await _decided_page(await open_link(request, token), token)


@router.api_route("/d/{token}/ban-can-ky.pdf", methods=READ_ONLY)
async def file_to_sign_download(request: Request, token: str) -> FileResponse:
    link = await open_link(request, token)
    if not await run_in_threadpool(awaits_own_signature, link.cycle_id, link.person_code):
        raise Refused("not_found")
    path = await run_in_threadpool(file_to_sign, link.cycle_id)
    return FileResponse(
        path,
        filename=f"ban-can-ky-{link.cycle_id}.pdf",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/d/{token}/ky-so", response_class=HTMLResponse)
async def signed_file_upload(request: Request, token: str) -> Response:
    link = await open_link(request, token)
    form = await read_form(request, link, max_fields=2, max_bytes=SIGNED_FORM_BYTES)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _decided_page(link, token, "Chọn tệp PDF đã ký rồi bấm Gửi bản đã ký.")
    data = await upload.read(MAX_PDF_BYTES + 1)
    try:
        await run_in_threadpool(take_signed_file, link.cycle_id, data, link.person_code, "web")
    except UserError as exc:
        return await _decided_page(link, token, str(exc))
    return RedirectResponse(f"/d/{token}/ket-qua", status_code=303)


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
