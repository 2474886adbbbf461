"""`reportflow web`: the pages a division head reaches from the link in a mail.

Nothing is served without a valid link but ``/healthz``. GET never changes anything; the one
change, "Gửi", is a POST carrying a CSRF token tied to the link. Every page is a template with
autoescape on; a submitted text is only ever a variable, never a template.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportflow.calendar.working_days import default_calendar
from reportflow.core.clock import today
from reportflow.core.config import PACKAGE_DIR, get_settings
from reportflow.core.errors import UserError
from reportflow.core.signing import signing_key
from reportflow.cycle.collecting.submit import (
    FigureProblems,
    check_upload_size,
    read_section_bytes,
    settle_submission,
    submit_indicator_values,
    submit_section_bytes,
)
from reportflow.cycle.cycles import cycle_definition, period_with_year, template_context
from reportflow.cycle.drafting.draft import draft_ahead
from reportflow.cycle.drafting.draft_page import draft_context, draft_file
from reportflow.cycle.drafting.merge import WITHOUT_SOURCE, outline_nodes
from reportflow.cycle.links import Link, LinkRefused, check_live, make_token, verify
from reportflow.cycle.tracking.progress import ProgressRefresher
from reportflow.definitions.figure_sections import is_figures_key
from reportflow.definitions.schema import OutlineItem, ReportDefinition
from reportflow.document.appendix import appendix_label
from reportflow.document.blocks import SectionContent
from reportflow.document.blocks_html import section_html
from reportflow.document.file_names import clean_file_name
from reportflow.document.numbering import number_outline
from reportflow.models import (
    Cycle,
    CycleState,
    IndicatorValue,
    Person,
    SectionAssignment,
    SectionVersion,
    session_scope,
)
from reportflow.notifications.messages import render_string, vn_date, vn_datetime, vn_weekday
from reportflow.runtime.health import web_dependencies
from reportflow.web.receipts import send_receipt

log = logging.getLogger(__name__)

FIGURES_SOURCE = "biểu mẫu số liệu trên web"
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
"""The one-time key the preview puts in its confirm form (`secrets.token_urlsafe(16)`)."""
PASTED_NAME = "van-ban-dan.md"
"""The name a pasted text is stored under (its format is Markdown)."""

REFUSALS = {
    "tampered": (
        403,
        "Liên kết không đúng",
        "Liên kết này không mở được: có thể nó bị cắt mất một phần hoặc bị sửa khi sao chép. "
        "Hãy bấm lại vào liên kết trong thư đề nghị (không gõ lại bằng tay). Nếu vẫn không "
        "được, hãy báo Văn phòng để được gửi liên kết mới.",
    ),
    "expired": (
        410,
        "Liên kết đã hết hạn",
        "Liên kết này đã hết hạn sử dụng. Nếu phần báo cáo vẫn cần gửi, hãy báo Văn phòng để "
        "được gửi liên kết mới.",
    ),
    "ended": (
        410,
        "Kỳ báo cáo đã kết thúc",
        "Kỳ báo cáo này đã kết thúc nên không nhận thêm bài. Nếu cần bổ sung, hãy liên hệ "
        "Văn phòng.",
    ),
    "revoked": (
        403,
        "Liên kết đã được thay",
        "Liên kết này đã bị thu hồi và thay bằng một liên kết mới. Hãy dùng liên kết trong thư "
        "mới nhất; nếu không có, hãy báo Văn phòng.",
    ),
    "not_owner": (
        403,
        "Phần này không còn do đơn vị anh/chị phụ trách",
        "Phần báo cáo này nay do đơn vị khác phụ trách, nên liên kết không dùng được. Hãy liên "
        "hệ Văn phòng nếu có nhầm lẫn.",
    ),
    "not_director": (
        403,
        "Trang dự thảo chỉ dành cho Giám đốc",
        "Liên kết này mở dự thảo trình Giám đốc, nên chỉ dùng được bằng liên kết trong thư gửi "
        "riêng cho Giám đốc.",
    ),
    "rate": (
        429,
        "Xin đợi một chút",
        "Liên kết này vừa được dùng quá nhiều lần trong một phút. Hãy đợi một phút rồi tải lại "
        "trang.",
    ),
    "csrf": (
        403,
        "Biểu mẫu không hợp lệ",
        "Biểu mẫu này không được gửi từ trang của anh/chị, nên chưa lưu gì. Hãy mở lại liên "
        "kết trong thư và gửi lại.",
    ),
    "too_large": (
        413,
        "Tệp quá lớn",
        "Tệp gửi lên quá lớn nên chưa được đọc. Hãy bỏ hình ảnh và phần không cần thiết rồi "
        "gửi lại.",
    ),
    "method": (
        405,
        "Không làm được thao tác này",
        "Trang này không nhận cách gửi đó. Hãy mở lại liên kết trong thư và dùng các nút trên "
        "trang.",
    ),
    "invalid": (
        422,
        "Địa chỉ hoặc biểu mẫu không đúng",
        "Địa chỉ hoặc biểu mẫu gửi lên không đúng dạng nên chưa lưu gì. Hãy mở lại liên kết "
        "trong thư (không gõ lại bằng tay) và gửi lại.",
    ),
    "not_found": (
        404,
        "Không có trang này",
        "Không có trang nào ở địa chỉ này. Hãy mở liên kết trong thư đề nghị gửi báo cáo.",
    ),
    "error": (
        500,
        "Có lỗi xảy ra",
        "Máy chủ gặp lỗi nên chưa lưu gì. Hãy thử lại sau ít phút; nếu vẫn lỗi, hãy báo Văn phòng.",
    ),
}


HTTP_REFUSALS = {
    400: "invalid",
    404: "not_found",
    405: "method",
    413: "too_large",
    422: "invalid",
    429: "rate",
}
"""Starlette's own errors, answered with the app's page and headers."""


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates" / "web"),
        autoescape=select_autoescape(["html"], default=True),
    )
    env.filters.update(vn_date=vn_date, vn_datetime=vn_datetime, vn_weekday=vn_weekday)
    return env


class RateLimit:
    """At most `web_requests_per_minute` requests per link per minute, in this process."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        limit, moment = get_settings().web_requests_per_minute, time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and moment - hits[0] > 60:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(moment)
            return True


def csrf_token(link: Link) -> str:
    digest = hmac.new(signing_key(), b"web-csrf:" + link.link_id.encode(), hashlib.sha256)
    return digest.hexdigest()


@dataclass
class Refused(Exception):
    reason: str


def _body_cap() -> int:
    """A form carries the file at most once, base64-encoded on the confirm step."""
    return get_settings().max_upload_bytes * 4 // 3 + 64_000


def _headings(items: list[OutlineItem]) -> Iterator[OutlineItem]:
    for item in items:
        yield item
        yield from _headings(item.children)


def _outline(
    items: list[OutlineItem],
    key: str,
    context: dict[str, Any],
    scheme: Sequence[str],
    depth: int = 0,
) -> list[dict[str, Any]]:
    """The report's headings (the definition's own, trusted text) numbered as the document
    numbers them, the section's own marked."""
    numbered = number_outline(outline_nodes(items, context), scheme)
    rows = []
    for item, heading in zip(_headings(items), numbered, strict=True):
        rows.append(
            {
                "label": heading.label if heading.label is not None else heading.node.marker,
                "title": heading.node.title,
                "depth": heading.depth + depth,
                "current": item.key == key or (is_figures_key(key) and item.indicators),
            }
        )
    return rows


def _parts(definition: ReportDefinition, key: str, context: dict[str, Any]) -> list[dict[str, Any]]:
    """The body's headings, then each appendix and its headings."""
    scheme = definition.numbering
    rows = _outline(definition.outline, key, context, scheme)
    count = len(definition.appendices)
    for position, appendix in enumerate(definition.appendices, start=1):
        title = render_string(appendix.title, **context)
        current = is_figures_key(key) and appendix.indicators
        label = appendix_label(position, count) + ":"
        rows.append({"label": label, "title": title, "depth": 0, "current": current})
        rows += _outline(appendix.outline, key, context, scheme, 1)
    return rows


def _closed_text(state: CycleState, round_no: int) -> str:
    if state == CycleState.COLLECTING:
        return ""
    if state in {CycleState.DRAFTING, CycleState.AWAITING_DECISION}:
        return (
            f"Các phần đã đủ và đã được tổng hợp thành dự thảo vòng {round_no}, đang chờ Giám đốc "
            "quyết định, nên các phần tạm khóa. Nếu cần sửa phần này, hãy báo Văn phòng: Giám đốc "
            "có thể trả lại phần để sửa, hoặc Văn phòng rút dự thảo để mở vòng mới; khi đó anh/chị "
            "nhận thư mới."
        )
    return f"Kỳ báo cáo đã đóng ({state.label_vi}); không nhận thêm bài."


def link_is_live(link: Link) -> None:
    """Refuses an ended, revoked or foreign link before a confirm is read (the page's whole
    context is built only when it must be shown again)."""
    with session_scope() as session:
        check_live(session, link)


def section_context(link: Link) -> dict[str, Any]:
    """Everything the section page shows, read in one transaction."""
    with session_scope() as session:
        cycle, assignment, person = check_live(session, link)
        definition = cycle_definition(session, cycle)
        versions = list(
            session.exec(
                select(SectionVersion)
                .where(SectionVersion.assignment_id == assignment.id)
                .order_by(SectionVersion.version_no)
                .options(WITHOUT_SOURCE)
            )
        )
        authors = {v.submitted_by for v in versions}
        names = {
            p.code: p.name for p in session.exec(select(Person).where(Person.code.in_(authors)))
        }
        days_left = default_calendar().working_days_between(today(), assignment.due)
        closed = _closed_text(CycleState(cycle.state), cycle.round)
        current = versions[-1] if versions else None
        return {
            "report_name": definition.name,
            "period_label": period_with_year(cycle.period_label, cycle.year),
            "request_number": cycle.request_number,
            "cycle_id": cycle.id,
            "person": {"name": person.name, "title": person.title},
            "section": {"key": assignment.section_key, "title": assignment.title},
            "is_figures": is_figures_key(assignment.section_key),
            "state": assignment.state,
            "comment": assignment.return_comment if assignment.state == "returned" else "",
            "due": assignment.due,
            "days_left": days_left,
            "outline": _parts(definition, assignment.section_key, template_context(cycle)),
            "closed": closed,
            "cycle_state": CycleState(cycle.state).label_vi,
            "current_html": section_html(SectionContent.from_json(current.blocks))
            if current
            else None,
            "current_no": current.version_no if current else None,
            "versions": [
                {
                    "no": v.version_no,
                    "at": v.submitted_at,
                    "by": names.get(v.submitted_by, v.submitted_by),
                    "name": v.source_name,
                    "format": "Word" if v.source_format == "docx" else "Markdown",
                }
                for v in reversed(versions)
            ],
        }


def _latest_values(session, cycle_ids: list[int], codes: list[str]) -> dict[str, IndicatorValue]:
    """The newest value of each code among the given cycles (the first cycle listed wins)."""
    if not cycle_ids or not codes:
        return {}
    rows = session.exec(
        select(IndicatorValue)
        .where(IndicatorValue.cycle_id.in_(cycle_ids), IndicatorValue.indicator_code.in_(codes))
        .order_by(IndicatorValue.version_no)
    ).all()
    rank = {cycle_id: position for position, cycle_id in enumerate(cycle_ids)}
    latest: dict[str, IndicatorValue] = {}
    for row in sorted(rows, key=lambda r: (-rank[r.cycle_id], r.version_no)):
        latest[row.indicator_code] = row
    return latest


def figures_context(link: Link) -> dict[str, Any]:
    """The indicators the link's division owes, with plan, previous cycle's and current values."""
    with session_scope() as session:
        cycle, assignment, _person = check_live(session, link)
        definition = cycle_definition(session, cycle)
        owed = [i for i in definition.indicators.items if i.owner == assignment.division_code]
        codes = [i.code for i in owed]
        current = _latest_values(session, [cycle.id], codes)
        earlier = session.exec(
            select(Cycle.id)
            .where(Cycle.definition_code == cycle.definition_code, Cycle.id < cycle.id)
            .order_by(Cycle.id.desc())
        ).all()
        previous = _latest_values(session, list(earlier), codes)
        return {
            "indicators": [
                {
                    "code": i.code,
                    "name": i.name.strip("- "),
                    "unit": i.unit,
                    "plan": i.plan,
                    "previous": previous[i.code].value_text if i.code in previous else "",
                    "current": current[i.code].value_text if i.code in current else "",
                }
                for i in owed
            ]
        }


def my_work_context(link: Link) -> dict[str, Any]:
    """The person's assignments in every cycle still collecting, each with its own link."""
    with session_scope() as session:
        _cycle, _assignment, person = check_live(session, link)
        rows = session.exec(
            select(SectionAssignment, Cycle)
            .join(Cycle, Cycle.id == SectionAssignment.cycle_id)
            .where(
                SectionAssignment.division_code == person.division_code,
                Cycle.state == CycleState.COLLECTING,
            )
            .order_by(SectionAssignment.due, Cycle.id, SectionAssignment.id)
        ).all()
        calendar, day = default_calendar(), today()
        items = []
        for assignment, cycle in rows:
            items.append(
                {
                    "report_name": cycle_definition(session, cycle).name,
                    "period_label": period_with_year(cycle.period_label, cycle.year),
                    "title": assignment.title,
                    "due": assignment.due,
                    "days_left": calendar.working_days_between(day, assignment.due),
                    "state": assignment.state,
                    "token": make_token(session, cycle.id, assignment.section_key, person.code),
                }
            )
        return {
            "person": {"name": person.name, "title": person.title},
            "open": [i for i in items if i["state"] != "submitted"],
            "done": [i for i in items if i["state"] == "submitted"],
        }


def receipt_context(link: Link, version_no: int) -> dict[str, Any]:
    with session_scope() as session:
        cycle, assignment, person = check_live(session, link)
        version = session.exec(
            select(SectionVersion)
            .where(
                SectionVersion.assignment_id == assignment.id,
                SectionVersion.version_no == version_no,
                SectionVersion.submitted_by == person.code,
            )
            .options(WITHOUT_SOURCE)
        ).first()
        if version is None:
            raise Refused("not_found")
        return {
            "report_name": cycle_definition(session, cycle).name,
            "section": {"title": assignment.title},
            "version_no": version.version_no,
            "at": version.submitted_at,
            "name": version.source_name,
            "sha256": version.sha256[:12],
            "cycle_moved_on": cycle.state != CycleState.COLLECTING,
        }


def mail_receipt(cycle_id: int, section_key: str, person_code: str, version_no: int) -> None:
    """After the response: the submission is stored whatever becomes of this mail (a failed
    send stays in the outbox, where `reportflow check` reports it)."""
    try:
        send_receipt(cycle_id, section_key, person_code, version_no)
    except Exception:  # noqa: BLE001 - logged; the page already told the person it was received
        log.exception("receipt mail for cycle %s section %s not sent", cycle_id, section_key)


def mail_figures_receipt(cycle_id: int, key: str, person_code: str, codes: str) -> None:
    try:
        send_receipt(cycle_id, key, person_code, None, f"{FIGURES_SOURCE}: {codes}")
    except Exception:  # noqa: BLE001 - as mail_receipt
        log.exception("receipt mail for cycle %s figures not sent", cycle_id)


@asynccontextmanager
async def _bounded_threads(_app: FastAPI) -> AsyncIterator[None]:
    """Requests worked on at once by this process (`web_threads`); the rest wait their turn,
    holding no section in memory meanwhile."""
    to_thread.current_default_thread_limiter().total_tokens = get_settings().web_threads
    yield


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=_bounded_threads)
    progress_refresher = ProgressRefresher(get_settings().progress_refresh_s)
    env = _environment()
    limiter = RateLimit()

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(**context)
        return HTMLResponse(
            html,
            status_code=status,
            headers={
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                "img-src 'self' data:; form-action 'self'; base-uri 'none'",
            },
        )

    def refusal(reason: str) -> HTMLResponse:
        status, title, text = REFUSALS[reason]
        return page("refused.html", status, title=title, text=text)

    async def open_link(request: Request, token: str) -> Link:
        try:
            link = verify(token)
        except LinkRefused as exc:
            raise Refused(exc.reason) from exc
        if not limiter.allow(link.link_id):
            raise Refused("rate")
        return link

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> HTMLResponse:
        return refusal(exc.reason)

    @app.exception_handler(LinkRefused)
    async def _link_refused(_request: Request, exc: LinkRefused) -> HTMLResponse:
        return refusal(exc.reason)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        return refusal(HTTP_REFUSALS.get(exc.status_code, "error"))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, _exc: RequestValidationError) -> HTMLResponse:
        return refusal("invalid")

    def read_only(path: str, **kwargs: Any):
        """A page: GET, and HEAD answered as GET without its body (uvicorn drops it), so a link
        checker sees a live link; neither changes anything."""
        return app.api_route(path, methods=["GET", "HEAD"], **kwargs)

    @app.exception_handler(Exception)
    async def _error(_request: Request, _exc: Exception) -> HTMLResponse:
        return refusal("error")

    @read_only("/healthz", response_class=PlainTextResponse)
    async def healthz() -> PlainTextResponse:
        """ "ok" and then each dependency; 503 when one fails (a load balancer takes it out)."""
        found = await run_in_threadpool(web_dependencies)
        healthy = all(found.values())
        lines = ["ok" if healthy else "lỗi"]
        lines += [f"{name}: {'ok' if works else 'lỗi'}" for name, works in found.items()]
        return PlainTextResponse("\n".join(lines), status_code=200 if healthy else 503)

    @read_only("/d/{token}", response_class=HTMLResponse)
    async def draft_page(request: Request, token: str) -> HTMLResponse:
        link = await open_link(request, token)
        context = await run_in_threadpool(draft_context, link)
        return page("draft.html", token=token, **context)

    @read_only("/d/{token}/du-thao.{suffix}")
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

    @read_only("/l/{token}", response_class=HTMLResponse)
    async def section_page(request: Request, token: str) -> HTMLResponse:
        link = await open_link(request, token)
        context = await run_in_threadpool(section_context, link)
        if context["is_figures"]:
            context |= await run_in_threadpool(figures_context, link)
        return page("section.html", token=token, csrf=csrf_token(link), **context)

    async def read_form(request: Request, link: Link) -> Any:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            raise Refused("too_large")
        if int(length) > _body_cap():
            raise Refused("too_large")
        form = await request.form(max_files=1, max_fields=8, max_part_size=_body_cap())
        if not hmac.compare_digest(str(form.get("csrf", "")), csrf_token(link)):
            raise Refused("csrf")
        return form

    @app.post("/l/{token}/preview", response_class=HTMLResponse)
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

    @read_only("/l/{token}/confirm", response_class=HTMLResponse)
    async def confirm_get(request: Request, token: str) -> HTMLResponse:
        await open_link(request, token)
        return page(
            "refused.html",
            title="Chưa gửi gì",
            text="Trang này chỉ nhận bài khi anh/chị bấm nút “Gửi” trên trang xem trước. "
            "Mở trang này trực tiếp không gửi gì. Hãy mở lại liên kết trong thư để gửi.",
            back=f"/l/{token}",
        )

    @app.post("/l/{token}/confirm", response_class=HTMLResponse)
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
            settle_submission, link.cycle_id, result.complete, progress_refresher.mark
        )
        if not result.repeated:
            background.add_task(
                mail_receipt, link.cycle_id, link.section_key, link.person_code, result.version_no
            )
            if result.complete:
                background.add_task(draft_ahead, link.cycle_id)
        return RedirectResponse(f"/l/{token}/receipt/{result.version_no}", status_code=303)

    @app.post("/l/{token}/figures", response_class=HTMLResponse)
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
        background.add_task(settle_submission, link.cycle_id, None, progress_refresher.mark)
        background.add_task(
            mail_figures_receipt,
            link.cycle_id,
            link.section_key,
            link.person_code,
            ", ".join(codes),
        )
        background.add_task(draft_ahead, link.cycle_id)
        return RedirectResponse(f"/l/{token}/figures/received", status_code=303)

    @read_only("/l/{token}/figures/received", response_class=HTMLResponse)
    async def figures_received(request: Request, token: str) -> HTMLResponse:
        link = await open_link(request, token)
        context = await run_in_threadpool(section_context, link)
        if not context["is_figures"]:
            raise Refused("not_found")
        context |= await run_in_threadpool(figures_context, link)
        return page("figures_received.html", token=token, **context)

    @read_only("/l/{token}/viec-cua-toi", response_class=HTMLResponse)
    async def my_work(request: Request, token: str) -> HTMLResponse:
        link = await open_link(request, token)
        context = await run_in_threadpool(my_work_context, link)
        return page("my_work.html", token=token, **context)

    @read_only("/l/{token}/receipt/{version_no}", response_class=HTMLResponse)
    async def receipt(request: Request, token: str, version_no: str) -> HTMLResponse:
        link = await open_link(request, token)
        if not (version_no.isascii() and version_no.isdigit() and len(version_no) <= 9):
            raise Refused("not_found")
        context = await run_in_threadpool(receipt_context, link, int(version_no))
        return page("receipt.html", token=token, **context)

    return app
