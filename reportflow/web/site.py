"""What every page shares: its template and security headers, the refusal page, opening a signed
link (rate-limited per link) and reading a form (size-capped, CSRF-checked)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import defaultdict, deque
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from reportflow.core.config import PACKAGE_DIR, get_settings
from reportflow.core.signing import signing_key
from reportflow.cycle.links import Link, LinkRefused, verify
from reportflow.notifications.messages import vn_date, vn_datetime, vn_weekday
from reportflow.web.refusals import REFUSALS, Refused

READ_ONLY = ["GET", "HEAD"]
"""A page: GET, and HEAD answered as GET without its body (uvicorn drops it), so a link checker
sees a live link; neither changes anything."""


@lru_cache
def environment() -> Environment:
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


def _body_cap() -> int:
    """A form carries the file at most once, base64-encoded on the confirm step."""
    return get_settings().max_upload_bytes * 4 // 3 + 64_000


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(template).render(**context)
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
    if not request.app.state.limiter.allow(link.link_id):
        raise Refused("rate")
    return link


async def read_form(
    request: Request, link: Link, max_fields: int = 8, max_bytes: int | None = None
) -> Any:
    """The POSTed form, refused unread when larger than ``max_bytes`` (by default what carries
    one upload) or than ``max_fields``, and when its CSRF token is not the link's."""
    cap = _body_cap() if max_bytes is None else max_bytes
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise Refused("too_large")
    if int(length) > cap:
        raise Refused("too_large")
    form = await request.form(max_files=1, max_fields=max_fields, max_part_size=cap)
    if not hmac.compare_digest(str(form.get("csrf", "")), csrf_token(link)):
        raise Refused("csrf")
    return form
