"""The mail that asks a signer who signs on his own PC for his signature: once per cycle,
through the outbox, with his page's link (or the commands, without a web app)."""

from __future__ import annotations

from reportflow.cycle.cycles import cycle_definition, get_cycle, period_with_year
from reportflow.cycle.drafting.draft_page import make_draft_link
from reportflow.models import Person, session_scope
from reportflow.notifications.messages import render_message
from reportflow.notifications.outbox import Addressee, Drained, drain, enqueue, person_channels

KIND = "sign-request"


def mail_sign_request(cycle_id: int, person_code: str) -> Drained:
    """Safe to call again: the message is planned once (its key is the cycle's), and a second
    call only drains what is still unsent."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        person = session.get(Person, person_code)
        title, body = render_message(
            "sign_request",
            report_name=cycle_definition(session, cycle).name,
            period_label=period_with_year(cycle.period_label, cycle.year),
            person=person,
            page_url=make_draft_link(session, cycle, person.code),
            cycle_id=cycle_id,
            deadline=cycle.deadline,
        )
        ids = enqueue(
            session,
            kind=KIND,
            message_key=f"{KIND}:c{cycle_id}",
            to=Addressee.person(person),
            title=title,
            body=body,
            cycle_id=cycle_id,
        )
    return drain(ids, person_channels)
