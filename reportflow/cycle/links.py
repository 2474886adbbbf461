"""Personal links: one person, one assignment, signed with the installation's key.

A link is ``<payload>.<signature>``: the payload names the cycle, the section, the person, the
link's generation and its expiry; the signature is HMAC-SHA256 over the payload. Revoking raises
the (cycle, section, person) generation, so every older link is refused. A link proves who
submits: the web never asks for a name.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from sqlmodel import Session, select

from reportflow.core.clock import VN_TZ, now, utcnow
from reportflow.core.config import get_settings
from reportflow.core.errors import NotFound
from reportflow.core.signing import signing_key
from reportflow.models import (
    Cycle,
    CycleState,
    Person,
    SectionAssignment,
    WebLinkGeneration,
    session_scope,
)
from reportflow.models.audit import record_event
from reportflow.notifications.link_placeholders import PLACEHOLDER

LINK_GRACE_DAYS = 30
"""A link lives this many days past the later of the cycle's deadline and the day it was mailed
(a late division keeps a working link: each reminder carries a fresh one); a cycle that ends
(done, rejected) ends its links at once."""
ENDED_STATES = {CycleState.DONE, CycleState.REJECTED}


class LinkRefused(Exception):
    """A link that cannot be used; ``reason`` picks the page that tells the person what to do."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    cycle_id: int
    section_key: str
    person_code: str
    generation: int
    expires: int
    """Unix seconds."""
    token: str

    @property
    def link_id(self) -> str:
        """A short public name for the link (rate limit, CSRF, audit); never the link itself."""
        return hashlib.sha256(self.token.encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str) -> str:
    return _b64(hmac.new(signing_key(), b"web-link:" + payload.encode(), hashlib.sha256).digest())


def sign(cycle_id: int, section_key: str, person_code: str, generation: int, expires: int) -> str:
    body = {"c": cycle_id, "s": section_key, "p": person_code, "g": generation, "x": expires}
    payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{payload}.{_signature(payload)}"


def verify(token: str) -> Link:
    """The link a token names, if its signature is right and it has not expired."""
    payload, _, signature = token.partition(".")
    if not payload or not signature or not hmac.compare_digest(signature, _signature(payload)):
        raise LinkRefused("tampered")
    try:
        body = json.loads(_unb64(payload))
        link = Link(
            int(body["c"]), str(body["s"]), str(body["p"]), int(body["g"]), int(body["x"]), token
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise LinkRefused("tampered") from exc
    if now().timestamp() >= link.expires:
        raise LinkRefused("expired")
    return link


def expiry_for(cycle: Cycle) -> int:
    last_day = max(cycle.deadline, now().astimezone(VN_TZ).date())
    end = dt.datetime.combine(last_day + dt.timedelta(days=LINK_GRACE_DAYS), dt.time(23, 59))
    return int(end.replace(tzinfo=VN_TZ).timestamp())


def current_generation(session: Session, cycle_id: int, section_key: str, person: str) -> int:
    row = _generation_row(session, cycle_id, section_key, person)
    return row.generation if row else 0


def _generation_row(
    session: Session, cycle_id: int, section_key: str, person: str
) -> WebLinkGeneration | None:
    return session.exec(
        select(WebLinkGeneration).where(
            WebLinkGeneration.cycle_id == cycle_id,
            WebLinkGeneration.section_key == section_key,
            WebLinkGeneration.person_code == person,
        )
    ).first()


def assignment_of(session: Session, cycle_id: int, section_key: str) -> SectionAssignment | None:
    return session.exec(
        select(SectionAssignment).where(
            SectionAssignment.cycle_id == cycle_id, SectionAssignment.section_key == section_key
        )
    ).first()


def make_token(session: Session, cycle_id: int, section_key: str, person_code: str) -> str:
    """The person's current signed token for the assignment."""
    cycle = session.get(Cycle, cycle_id)
    assignment = assignment_of(session, cycle_id, section_key)
    person = session.get(Person, person_code)
    if cycle is None or assignment is None or person is None:
        raise NotFound(f"Không có phần '{section_key}' của kỳ {cycle_id} cho '{person_code}'.")
    generation = current_generation(session, cycle_id, section_key, person_code)
    return sign(cycle_id, section_key, person_code, generation, expiry_for(cycle))


def make_link(session: Session, cycle_id: int, section_key: str, person_code: str) -> str:
    """The person's current link to the assignment (its address, with `REPORTFLOW_WEB_URL`)."""
    token = make_token(session, cycle_id, section_key, person_code)
    return f"{get_settings().web_url.rstrip('/')}/l/{token}"


def revoke(cycle_id: int, section_key: str, person_code: str, by: str) -> str:
    """Refuses every link made so far for this assignment and person; returns the new link."""
    with session_scope(write_lock=True) as session:
        make_link(session, cycle_id, section_key, person_code)
        row = _generation_row(session, cycle_id, section_key, person_code)
        if row is None:
            row = WebLinkGeneration(
                cycle_id=cycle_id, section_key=section_key, person_code=person_code
            )
        row.generation += 1
        row.revoked_at = utcnow()
        row.revoked_by = by
        session.add(row)
        record_event(
            session,
            by,
            "web_link.revoked",
            cycle_id,
            section=section_key,
            person=person_code,
            generation=row.generation,
        )
        session.flush()
        return make_link(session, cycle_id, section_key, person_code)


def check_live(session: Session, link: Link) -> tuple[Cycle, SectionAssignment, Person]:
    """The link's cycle, assignment and person, if the link is still the person's current one."""
    cycle = session.get(Cycle, link.cycle_id)
    assignment = assignment_of(session, link.cycle_id, link.section_key)
    person = session.get(Person, link.person_code)
    if cycle is None or assignment is None or person is None:
        raise LinkRefused("tampered")
    if CycleState(cycle.state) in ENDED_STATES:
        raise LinkRefused("ended")
    if current_generation(session, cycle.id, link.section_key, person.code) != link.generation:
        raise LinkRefused("revoked")
    if person.division_code != assignment.division_code:
        raise LinkRefused("not_owner")
    return cycle, assignment, person


def expand_placeholders(text: str) -> str:
    if "[[reportflow-link:" not in text:
        return text
    with session_scope() as session:
        return PLACEHOLDER.sub(
            lambda m: make_link(session, int(m.group(1)), m.group(2), m.group(3)), text
        )
