"""Vietnamese message texts from Jinja2 templates. Submitted text is only ever a variable."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

from reportflow.core.clock import VN_TZ
from reportflow.core.config import PACKAGE_DIR
from reportflow.core.vi_format import short_date as vn_date
from reportflow.definitions.figure_sections import figures_key
from reportflow.notifications.link_placeholders import placeholder

WEEKDAYS_VI = ["thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"]


def vn_datetime(value: dt.datetime) -> str:
    local = (
        value.astimezone(VN_TZ) if value.tzinfo else value.replace(tzinfo=dt.UTC).astimezone(VN_TZ)
    )
    return f"{local:%H:%M} ngày {vn_date(local.date())}"


def vn_weekday(value: dt.date) -> str:
    return WEEKDAYS_VI[value.weekday()]


def web_link(cycle_id: int, section_key: str, person_code: str) -> str:
    """A placeholder the outbox replaces with the person's signed link when it sends the mail;
    empty when `REPORTFLOW_WEB_URL` is not set."""
    return placeholder(cycle_id, section_key, person_code)


@lru_cache
def template_environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters.update(vn_date=vn_date, vn_datetime=vn_datetime, vn_weekday=vn_weekday)
    env.globals.update(web_link=web_link, figures_key=figures_key)
    return env


def render_message(name: str, **context: Any) -> tuple[str, str]:
    """Returns (title, body): the template's first line is the title."""
    text = template_environment().get_template(f"messages/{name}.j2").render(**context)
    title, _, body = text.partition("\n")
    return title.strip(), body.strip() + "\n"


def render_string(source: str, **context: Any) -> str:
    """Renders a definition's own text (trusted configuration, never a submission)."""
    if "{" not in source:  # most titles: no template to compile (1,000 headings on a page)
        return source.removesuffix("\n")  # as Jinja renders it
    return _compiled(source).render(**context)


@lru_cache(maxsize=4096)
def _compiled(source: str) -> Template:
    return template_environment().from_string(source)
