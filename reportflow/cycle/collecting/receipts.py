"""The receipt e-mail after a web submission, through the outbox (one per version and channel)."""

from __future__ import annotations

import logging

from sqlmodel import select

from reportflow.core.clock import utcnow
from reportflow.cycle.cycles import cycle_definition, period_with_year
from reportflow.cycle.links import assignment_of
from reportflow.definitions.figure_sections import is_figures_key
from reportflow.models import Cycle, Person, SectionAssignment, SectionVersion, session_scope
from reportflow.notifications.messages import render_message
from reportflow.notifications.outbox import Addressee, Drained, drain, enqueue, person_channels


def send_receipt(
    cycle_id: int,
    section_key: str,
    person_code: str,
    version_no: int | None = None,
    figures: str = "",
) -> Drained:
    """Mails the person who submitted what was received: a section's version, or (with
    `version_no` None) the figures listed in `figures`."""
    with session_scope() as session:
        cycle = session.get(Cycle, cycle_id)
        assignment: SectionAssignment = assignment_of(session, cycle_id, section_key)
        person = session.get(Person, person_code)
        at, source_name, sha = utcnow(), figures, ""
        if version_no is not None:
            version = session.exec(
                select(SectionVersion).where(
                    SectionVersion.assignment_id == assignment.id,
                    SectionVersion.version_no == version_no,
                )
            ).one()
            at, source_name, sha = version.submitted_at, version.source_name, version.sha256
        title, body = render_message(
            "submission_receipt",
            report_name=cycle_definition(session, cycle).name,
            period_label=period_with_year(cycle.period_label, cycle.year),
            person=person,
            section_title=assignment.title,
            is_figures=is_figures_key(section_key),
            version_no=version_no,
            at=at,
            source_name=source_name,
            sha=sha[:12],
        )
        moment = at.strftime("%Y%m%dT%H%M%S%f")
        ids = enqueue(
            session,
            kind="receipt",
            message_key=f"receipt:c{cycle_id}:{section_key}:v{version_no or moment}",
            to=Addressee.person(person),
            title=title,
            body=body,
            cycle_id=cycle_id,
        )
    return drain(ids, person_channels)


log = logging.getLogger(__name__)

FIGURES_SOURCE = "biểu mẫu số liệu trên web"

"""Where figures entered on the web page are said to come from (kept with them and in the receipt)."""


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
