"""The division head's section: the page behind the link, the preview, the confirm that stores
a version (once, however often it is sent), the receipt, and the person's open work."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from reportflow.core.errors import UserError
from reportflow.cycle.collecting.receipts import mail_receipt
from reportflow.cycle.collecting.submit import (
    check_upload_size,
    read_section_bytes,
    settle_submission,
    submit_section_bytes,
)
from reportflow.cycle.collecting.views import (
    figures_context,
    link_is_live,
    my_work_context,
    receipt_context,
    section_context,
)
from reportflow.cycle.drafting.draft import draft_ahead
from reportflow.document.reading.file_names import clean_file_name
from reportflow.document.writing.blocks_html import section_html
from reportflow.web.refusals import Refused
from reportflow.web.site import READ_ONLY, csrf_token, open_link, page, read_form

router = APIRouter()

SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
"""The one-time key the preview puts in its confirm form (`secrets.token_urlsafe(16)`)."""

PASTED_NAME = "van-ban-dan.md"
"""The name a pasted text is stored under (its format is Markdown)."""


@router.api_route("/l/{token}", methods=READ_ONLY, response_class=HTMLResponse)
async def section_page(request: Request, token: str) -> HTMLResponse:
    link = await open_link(request, token)
    context = await run_in_threadpool(section_context, link)
    if context["is_figures"]:
        context |= await run_in_threadpool(figures_context, link)
    return page("section.html", token=token, csrf=csrf_token(link), **context)


@router.post("/l/{token}/preview", response_class=HTMLResponse)
async def preview(request: Request, token: str) -> HTMLResponse:
    link = await open_link(request, token)
    context = await run_in_threadpool(section_context, link)
    form = await read_form(request, link)
    upload, pasted = form.get("file"), str(form.get("markdown") or "")
    problem, data, name, html = "", b"", "", None
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            name = clean_file_name(upload.filename)
            check_upload_size(upload.size or 0, name)
            data = await upload.read()
        elif pasted.strip():
            name, data = PASTED_NAME, pasted.replace("\r\n", "\n").encode("utf-8")
        else:
            raise UserError("Chưa có nội dung: hãy chọn tệp .docx/.md hoặc dán văn bản.")
        content, _, _ = await run_in_threadpool(read_section_bytes, data, name)
        html = section_html(content)
    except UserError as exc:
        problem = str(exc)
    return page(
        "preview.html",
        token=token,
        csrf=csrf_token(link),
        problem=problem,
        preview_html=html,
        filename=name,
        pasted=pasted if name == PASTED_NAME else "",
        data_b64=base64.b64encode(data).decode("ascii") if html is not None else "",
        submission=secrets.token_urlsafe(16),
        **context,
    )


@router.api_route("/l/{token}/confirm", methods=READ_ONLY, response_class=HTMLResponse)
async def confirm_get(request: Request, token: str) -> HTMLResponse:
    await open_link(request, token)
    return page(
        "refused.html",
        title="Chưa gửi gì",
        text="Trang này chỉ nhận bài khi anh/chị bấm nút “Gửi” trên trang xem trước. "
        "Mở trang này trực tiếp không gửi gì. Hãy mở lại liên kết trong thư để gửi.",
        back=f"/l/{token}",
    )


@router.post("/l/{token}/confirm", response_class=HTMLResponse)
async def confirm(request: Request, token: str, background: BackgroundTasks) -> Any:
    link = await open_link(request, token)
    await run_in_threadpool(link_is_live, link)
    form = await read_form(request, link)
    name = clean_file_name(str(form.get("filename") or ""))
    submission = str(form.get("submission") or "")
    if not SUBMISSION_KEY.fullmatch(submission):
        submission = ""
    try:
        data = base64.b64decode(str(form.get("data") or ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    try:
        if not data or not name:
            raise UserError("Không có nội dung để gửi. Hãy chọn tệp hoặc dán văn bản lại.")
        result = await run_in_threadpool(
            submit_section_bytes,
            link.cycle_id,
            link.section_key,
            data,
            name,
            link.person_code,
            settle=False,
            submission_key=submission or None,
        )
    except UserError as exc:
        context = await run_in_threadpool(section_context, link)
        return page(
            "preview.html",
            422,
            token=token,
            csrf=csrf_token(link),
            problem=str(exc),
            preview_html=None,
            filename=name,
            pasted="",
            data_b64="",
            submission="",
            **context,
        )
    # After the response: the division head waits only for the stored version. A repeated
    # confirm is settled again (a wake lost the first time is retried) but mails nothing.
    background.add_task(
        settle_submission, link.cycle_id, result.complete, request.app.state.progress.mark
    )
    if not result.repeated:
        background.add_task(
            mail_receipt, link.cycle_id, link.section_key, link.person_code, result.version_no
        )
        if result.complete:
            background.add_task(draft_ahead, link.cycle_id)
    return RedirectResponse(f"/l/{token}/receipt/{result.version_no}", status_code=303)


@router.api_route("/l/{token}/receipt/{version_no}", methods=READ_ONLY, response_class=HTMLResponse)
async def receipt(request: Request, token: str, version_no: str) -> HTMLResponse:
    link = await open_link(request, token)
    if not (version_no.isascii() and version_no.isdigit() and len(version_no) <= 9):
        raise Refused("not_found")
    context = await run_in_threadpool(receipt_context, link, int(version_no))
    return page("receipt.html", token=token, **context)


@router.api_route("/l/{token}/viec-cua-toi", methods=READ_ONLY, response_class=HTMLResponse)
async def my_work(request: Request, token: str) -> HTMLResponse:
    link = await open_link(request, token)
    context = await run_in_threadpool(my_work_context, link)
    return page("my_work.html", token=token, **context)
