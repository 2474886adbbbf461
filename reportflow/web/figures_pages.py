"""The figures form: a division's indicator values, checked all together before any is stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from reportflow.core.errors import UserError
from reportflow.cycle.collecting.receipts import (
    FIGURES_SOURCE,
    mail_figures_receipt,
)
from reportflow.cycle.collecting.submit import (
    FigureProblems,
    settle_submission,
    submit_indicator_values,
)
from reportflow.cycle.collecting.views import (
    figures_context,
    section_context,
)
from reportflow.cycle.drafting.draft import draft_ahead
from reportflow.web.refusals import Refused
from reportflow.web.site import READ_ONLY, csrf_token, open_link, page, read_form

router = APIRouter()


@router.post("/l/{token}/figures", response_class=HTMLResponse)
async def figures(request: Request, token: str, background: BackgroundTasks) -> Any:
    link = await open_link(request, token)
    context = await run_in_threadpool(section_context, link)
    if not context["is_figures"]:
        raise Refused("not_found")
    context |= await run_in_threadpool(figures_context, link)
    form = await read_form(request, link)
    entered = {
        i["code"]: str(form.get(f"v:{i['code']}") or "").strip() for i in context["indicators"]
    }
    values = {code: raw for code, raw in entered.items() if raw}
    errors: dict[str, str] = {}
    problem = ""
    try:
        if not values:
            raise UserError("Chưa nhập số liệu nào. Hãy nhập ít nhất một chỉ tiêu rồi gửi.")
        codes = await run_in_threadpool(
            submit_indicator_values,
            link.cycle_id,
            values,
            link.person_code,
            FIGURES_SOURCE,
            settle=False,
        )
    except FigureProblems as exc:
        errors = exc.problems
        problem = (
            f"{len(errors)} giá trị chưa đúng; chưa lưu gì. Sửa các ô có ghi chú đỏ rồi "
            "bấm “Gửi” lại."
        )
    except UserError as exc:
        problem = str(exc)
    if problem:
        return page(
            "section.html",
            422,
            token=token,
            csrf=csrf_token(link),
            entered=entered,
            errors=errors,
            problem=problem,
            **context,
        )
    background.add_task(settle_submission, link.cycle_id, None, request.app.state.progress.mark)
    background.add_task(
        mail_figures_receipt,
        link.cycle_id,
        link.section_key,
        link.person_code,
        ", ".join(codes),
    )
    background.add_task(draft_ahead, link.cycle_id)
    return RedirectResponse(f"/l/{token}/figures/received", status_code=303)


@router.api_route("/l/{token}/figures/received", methods=READ_ONLY, response_class=HTMLResponse)
async def figures_received(request: Request, token: str) -> HTMLResponse:
    link = await open_link(request, token)
    context = await run_in_threadpool(section_context, link)
    if not context["is_figures"]:
        raise Refused("not_found")
    context |= await run_in_threadpool(figures_context, link)
    return page("figures_received.html", token=token, **context)
