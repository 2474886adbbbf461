"""Keeps the organisation tables in step with the organisation file."""

from __future__ import annotations

from sqlmodel import Session

from reportflow.definition_schema import OrganisationSpec
from reportflow.models import Division, Person
from reportflow.tasks.errors import Forbidden, NotFound


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


def require_director(session: Session, code: str) -> Person:
    person = get_person(session, code)
    if person.role != "director":
        raise Forbidden(
            f"{person.name} ({person.title or person.role}) không có quyền quyết định báo cáo; "
            "chỉ Giám đốc được phê duyệt."
        )
    return person
