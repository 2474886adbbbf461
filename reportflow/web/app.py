"""`reportflow web`: the pages a division head reaches from the link in a mail.

Nothing is served without a valid link but ``/healthz``. GET never changes anything; the one
change, "Gửi", is a POST carrying a CSRF token tied to the link. Every page is a template with
autoescape on; a submitted text is only ever a variable, never a template.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportflow.core.config import get_settings
from reportflow.core.errors import NotFound
from reportflow.cycle.links import LinkRefused
from reportflow.cycle.tracking.progress import ProgressRefresher
from reportflow.runtime.health import web_dependencies
from reportflow.web import draft_pages, figures_pages, section_pages
from reportflow.web.refusals import HTTP_REFUSALS, Refused
from reportflow.web.site import READ_ONLY, RateLimit, refusal


@asynccontextmanager
async def _bounded_threads(_app: FastAPI) -> AsyncIterator[None]:
    """Requests worked on at once by this process (`web_threads`); the rest wait their turn,
    holding no section in memory meanwhile."""
    to_thread.current_default_thread_limiter().total_tokens = get_settings().web_threads
    yield


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=_bounded_threads)
    app.state.progress = ProgressRefresher(get_settings().progress_refresh_s)
    app.state.limiter = RateLimit()

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

    @app.exception_handler(Exception)
    async def _error(_request: Request, _exc: Exception) -> HTMLResponse:
        return refusal("error")

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, _exc: NotFound) -> HTMLResponse:
        return refusal("not_found")

    @app.api_route("/healthz", methods=READ_ONLY, response_class=PlainTextResponse)
    async def healthz() -> PlainTextResponse:
        """ "ok" and then each dependency; 503 when one fails (a load balancer takes it out)."""
        found = await run_in_threadpool(web_dependencies)
        healthy = all(found.values())
        lines = ["ok" if healthy else "lỗi"]
        lines += [f"{name}: {'ok' if works else 'lỗi'}" for name, works in found.items()]
        return PlainTextResponse("\n".join(lines), status_code=200 if healthy else 503)

    for pages in (draft_pages, section_pages, figures_pages):
        app.include_router(pages.router)
    return app
