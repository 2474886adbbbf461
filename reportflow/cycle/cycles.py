"""Opening a cycle and reading one back."""

from __future__ import annotations

from sqlmodel import Session, select

from reportflow.calendar.periods import PeriodKind
from reportflow.core.errors import NotFound
from reportflow.cycle.opening.plan import CyclePlan, CycleRequest, plan_cycle
from reportflow.cycle.organisation import get_person, sync_organisation
from reportflow.definitions.figure_sections import FIGURES_TITLE, figure_owners, figures_key
from reportflow.definitions.loader import definition_digest, load_definition, load_organisation
from reportflow.definitions.schema import ReportDefinition, SignerSpec
from reportflow.models import ApprovalDecision, Cycle, DefinitionSnapshot, SectionAssignment
from reportflow.models.audit import record_event
from reportflow.notifications.messages import render_string, vn_date


def open_cycle(
    session: Session, definition_code: str, request: CycleRequest, opened_by: str
) -> Cycle:
    organisation = load_organisation()
    definition = load_definition(definition_code)
    sync_organisation(session, organisation)
    get_person(session, opened_by)
    plan = plan_cycle(definition, request)
    internal, year = plan.internal_deadline, plan.year

    snapshot = _snapshot(session, definition)
    cycle = Cycle(
        definition_id=snapshot.id,
        definition_code=definition.code,
        request_number=request.number,
        request_date=request.date,
        request_sender=request.sender,
        request_subject=request.subject,
        period_label=request.period_label or _period_label(definition, plan),
        period_kind=plan.period_kind.value,
        cutoff_start=plan.period.cutoff_start if plan.period else None,
        cutoff_end=plan.period.cutoff_end if plan.period else None,
        year=year,
        deadline=plan.deadline,
        internal_deadline=internal,
        opened_by=opened_by,
    )
    session.add(cycle)
    session.flush()
    for section in definition.sections():
        session.add(
            SectionAssignment(
                cycle_id=cycle.id,
                section_key=section.key,
                title=render_string(section.title, year=year),
                division_code=section.owner,
                due=internal,
            )
        )
    for division_code in figure_owners(definition):
        session.add(
            SectionAssignment(
                cycle_id=cycle.id,
                section_key=figures_key(division_code),
                title=FIGURES_TITLE,
                division_code=division_code,
                due=internal,
            )
        )
    record_event(
        session,
        opened_by,
        "cycle.opened",
        cycle.id,
        definition=definition.code,
        request=request.number,
        period_kind=plan.period_kind.value,
        deadline=plan.deadline.isoformat(),
        internal_deadline=internal.isoformat(),
    )
    session.flush()
    return cycle


def _period_label(definition: ReportDefinition, plan: CyclePlan) -> str:
    """The definition's label, unless this cycle changed the period kind; then the period's own
    label without the year ("6 tháng đầu năm"), since the definition's texts add the year."""
    if definition.period_label and plan.period_kind.value == definition.period_kind:
        return definition.period_label
    if plan.period is None or plan.period_kind is PeriodKind.ad_hoc:
        return plan.period_kind.label_vi
    return plan.period.label_vi.removesuffix(f" năm {plan.year}").removesuffix(f" {plan.year}")


def _snapshot(session: Session, definition: ReportDefinition) -> DefinitionSnapshot:
    digest = definition_digest(definition)
    existing = session.exec(
        select(DefinitionSnapshot).where(
            DefinitionSnapshot.code == definition.code, DefinitionSnapshot.sha256 == digest
        )
    ).first()
    if existing:
        return existing
    snapshot = DefinitionSnapshot(
        code=definition.code, sha256=digest, body=definition.model_dump(mode="json")
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def get_cycle(
    session: Session, cycle_id: int, *, for_update: bool = False, for_share: bool = False
) -> Cycle:
    """`for_update` locks the row against every other locker (a change of the cycle's state);
    `for_share` only against those (many submissions at once hold it together)."""
    query = select(Cycle).where(Cycle.id == cycle_id)
    if for_update:
        query = query.with_for_update()
    elif for_share:
        query = query.with_for_update(read=True)
    cycle = session.exec(query).first()
    if cycle is None:
        raise NotFound(f"Không có kỳ báo cáo số {cycle_id}. Xem danh sách bằng: reportflow status")
    return cycle


def cycle_definition(session: Session, cycle: Cycle) -> ReportDefinition:
    """The definition the cycle was opened with. Snapshots never change and the model is frozen,
    so one validated copy per snapshot is kept: at 1,000 sections validating costs ~20 ms, and
    every page and submission asks for it."""
    sha256 = session.exec(
        select(DefinitionSnapshot.sha256).where(DefinitionSnapshot.id == cycle.definition_id)
    ).one()
    found = _validated.get(sha256)
    if found is None:
        snapshot = session.get(DefinitionSnapshot, cycle.definition_id)
        found = ReportDefinition.model_validate(snapshot.body)
        if len(_validated) >= 16:
            _validated.pop(next(iter(_validated)))
        _validated[sha256] = found
    return found


_validated: dict[str, ReportDefinition] = {}


def signer_of(session: Session, cycle: Cycle) -> SignerSpec:
    """The signature block the final carries: that of whoever approved (a deputy signs KT.
    under his own name), the definition's default signer until then."""
    approver = session.exec(
        select(ApprovalDecision.approver_code).where(
            ApprovalDecision.cycle_id == cycle.id, ApprovalDecision.decision == "approve"
        )
    ).first()
    return cycle_definition(session, cycle).signer_for(approver)


def assignments(session: Session, cycle_id: int) -> list[SectionAssignment]:
    return list(
        session.exec(
            select(SectionAssignment)
            .where(SectionAssignment.cycle_id == cycle_id)
            .order_by(SectionAssignment.id)
        )
    )


def all_sections_in(session: Session, cycle_id: int) -> bool:
    """Asked after every submission: one row at most, not the cycle's every assignment."""
    still_open = (
        select(SectionAssignment.id)
        .where(SectionAssignment.cycle_id == cycle_id, SectionAssignment.state != "submitted")
        .limit(1)
    )
    return session.exec(still_open).first() is None


def period_with_year(period_label: str, year: int) -> str:
    """ "6 tháng đầu năm 2020", "năm 2021": what a message names the period by."""
    return period_label if str(year) in period_label else f"{period_label} {year}"


def template_context(cycle: Cycle) -> dict:
    """What a definition's own texts (summary, intro, titles) may refer to."""
    return {
        "year": cycle.year,
        "period_label": cycle.period_label,
        "request": {
            "number": cycle.request_number,
            "date": vn_date(cycle.request_date),
            "sender": cycle.request_sender,
            "subject": cycle.request_subject,
        },
    }
