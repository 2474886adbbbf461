"""Keeps the organisation tables in step with the organisation file."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from reportflow.core.errors import Forbidden, NotFound
from reportflow.definitions.schema import OrganisationSpec, ReportDefinition
from reportflow.models import Division, Person


def sync_organisation(session: Session, organisation: OrganisationSpec) -> None:
    for spec in organisation.divisions:
        session.merge(Division(code=spec.code, name=spec.name, short_name=spec.short_name))
    session.flush()
    for spec in organisation.people:
        session.merge(
            Person(
                code=spec.code,
                name=spec.name,
                title=spec.title,
                role=spec.role,
                division_code=spec.division,
                email=spec.email,
                apprise_urls=list(spec.apprise),
            )
        )
    session.flush()


def get_person(session: Session, code: str) -> Person:
    person = session.get(Person, code)
    if person is None:
        raise NotFound(f"Không có người dùng '{code}' trong tổ chức. Kiểm tra lại mã người (--by).")
    return person


def deciders(session: Session, definition: ReportDefinition) -> list[Person]:
    """Who gets the approval code and may decide: the definition's signer (unless he signs by
    order, TL./TUQ.) and its approvers; with none of them, the people with the director's role."""
    codes = [spec.person for spec in definition.deciders()]
    if not codes:
        return list(session.exec(select(Person).where(Person.role == "director")))
    found = [session.get(Person, code) for code in codes]
    return [person for person in found if person is not None]


def require_decider(session: Session, definition: ReportDefinition, code: str) -> Person:
    """The person, if he may decide this report (`deciders`)."""
    person = get_person(session, code)
    allowed = deciders(session, definition)
    if person.code not in {p.code for p in allowed}:
        raise Forbidden(
            f"{person.name} ({person.title or person.role}) không có quyền quyết định báo cáo "
            f"này; người phê duyệt: {', '.join(p.name for p in allowed)}."
        )
    return person


def division_name(session: Session, code: str) -> str:
    division = session.get(Division, code)
    return division.name if division else code


def division_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """The names of many divisions in one query; a code with no division names itself."""
    wanted = set(codes)
    found = dict(
        session.exec(select(Division.code, Division.name).where(Division.code.in_(wanted))).all()
    )
    return {code: found.get(code, code) for code in wanted}
