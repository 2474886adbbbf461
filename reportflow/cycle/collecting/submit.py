"""The one entry point for a submission: validate, store a new version, audit, then wake the cycle."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlmodel import Session, func, select

from reportflow.core.config import get_settings
from reportflow.core.errors import Conflict, Forbidden, NotFound, UserError
from reportflow.core.safe_yaml import YamlRefused, load_yaml_file
from reportflow.cycle.collecting.figures import mark_figures_in
from reportflow.cycle.cycles import all_sections_in, cycle_definition, get_cycle
from reportflow.cycle.organisation import division_name, get_person
from reportflow.cycle.tracking.progress import refresh_progress
from reportflow.cycle.wake import wake_after_commit
from reportflow.definitions.figure_sections import is_figures_key
from reportflow.definitions.indicators import (
    FIGURES_FILE_LIMITS,
    MAX_FIGURE_CODES,
    IndicatorValueError,
    read_indicator,
)
from reportflow.document.blocks import SectionContent
from reportflow.document.reading.errors import SectionInputError
from reportflow.document.reading.file_names import clean_file_name
from reportflow.document.reading.markdown import parse_markdown
from reportflow.models import (
    Cycle,
    CycleState,
    IndicatorValue,
    Person,
    SectionAssignment,
    SectionVersion,
    session_scope,
)
from reportflow.models.audit import record_event

MARKDOWN_SUFFIXES = {".md", ".markdown", ".txt"}


@dataclass(frozen=True)
class SubmissionResult:
    cycle_id: int
    section_key: str
    version_no: int
    complete: bool
    woke_cycle: bool
    repeated: bool = False
    """The same web confirm came again: the version it stored first is returned, nothing new."""


def check_upload_size(size: int, name: str) -> None:
    """Refuses a file over `REPORTFLOW_MAX_UPLOAD_BYTES`, before it is read."""
    limit = get_settings().max_upload_bytes
    if size > limit:
        raise UserError(
            f"Tệp '{name}' quá lớn ({size:,} byte; tối đa {limit:,} byte). "
            "Hãy bỏ hình ảnh và phần không cần thiết rồi gửi lại.".replace(",", ".")
        )


def read_section_file(path: Path) -> tuple[SectionContent, bytes, str]:
    """Parses a submitted file into blocks; refuses anything the report cannot carry."""
    if not path.is_file():
        raise UserError(f"Không tìm thấy tệp '{path}'.")
    check_upload_size(path.stat().st_size, path.name)
    return read_section_bytes(path.read_bytes(), path.name)


def read_section_bytes(data: bytes, name: str) -> tuple[SectionContent, bytes, str]:
    """The same checks for a file already in memory (an upload): the CLI and the web share them."""
    limit = get_settings().max_upload_bytes
    check_upload_size(len(data), name)
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".docx" or suffix == ".docm":
            from reportflow.document.reading.word import parse_docx  # python-docx: ~0.1 s to load

            content, fmt = parse_docx(data, name, max_bytes=limit), "docx"
        elif suffix in MARKDOWN_SUFFIXES:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise UserError(
                    f"Tệp '{name}' không phải văn bản UTF-8. Hãy lưu lại với mã UTF-8."
                ) from exc
            content, fmt = parse_markdown(text), "markdown"
        else:
            raise UserError(f"Không nhận tệp '{name}': chỉ nhận .docx (Word) hoặc .md (Markdown).")
    except SectionInputError as exc:
        raise UserError(str(exc)) from exc
    if content.is_empty():
        raise UserError(f"Tệp '{name}' không có nội dung. Hãy gửi phần báo cáo có nội dung.")
    return content, data, fmt


def refuse_unless_collecting(cycle: Cycle) -> None:
    """Once a draft is merged its sections are frozen: the director decides on what he was sent."""
    state = CycleState(cycle.state)
    if state in {CycleState.DRAFTING, CycleState.AWAITING_DECISION}:
        raise Conflict(
            f"Kỳ báo cáo số {cycle.id} đã tổng hợp dự thảo vòng {cycle.round} và đang chờ Giám đốc "
            "quyết định, nên các phần đã khóa; bài gửi này chưa được lưu. Để sửa một phần: Giám đốc "
            "trả lại phần đó khi quyết định, hoặc Văn phòng rút dự thảo để mở vòng mới: "
            f"reportflow cycle withdraw {cycle.id}"
        )
    if state != CycleState.COLLECTING:
        raise Conflict(
            f"Kỳ báo cáo số {cycle.id} đã đóng (trạng thái: {state.label_vi}); không nhận thêm bài."
        )


def _check_owner(person: Person, assignment: SectionAssignment, division_name: str) -> None:
    if person.division_code != assignment.division_code:
        raise Forbidden(
            f"{person.name} không thể gửi phần '{assignment.title}': phần này do {division_name} "
            "phụ trách. Mỗi phòng chỉ gửi phần của mình."
        )


def _locked_assignment(session: Session, cycle: Cycle, section_key: str) -> SectionAssignment:
    """The section's row, locked until commit: one version number at a time for one section,
    while the other divisions' sections are stored at the same moment."""
    assignment = session.exec(
        select(SectionAssignment)
        .where(SectionAssignment.cycle_id == cycle.id, SectionAssignment.section_key == section_key)
        .with_for_update()
    ).first()
    if assignment is None:
        known = ", ".join(s.key for s in cycle_definition(session, cycle).sections())
        raise NotFound(
            f"Kỳ báo cáo số {cycle.id} không có phần '{section_key}'. Các phần: {known}."
        )
    return assignment


def submit_section(cycle_id: int, section_key: str, source: Path, by: str) -> SubmissionResult:
    _refuse_figures_key(cycle_id, section_key, by)
    name = clean_file_name(source.name)
    return store_section(cycle_id, section_key, read_section_file(source), name, by)


def submit_section_bytes(
    cycle_id: int,
    section_key: str,
    data: bytes,
    name: str,
    by: str,
    settle: bool = True,
    submission_key: str | None = None,
) -> SubmissionResult:
    """`submit_section` for a file received over the web (``by`` is proven by the link).

    ``settle=False`` leaves `settle_submission` to the caller (the web app runs it after the
    response is sent). A ``submission_key`` already stored for the section returns that
    version instead of storing the same confirm twice."""
    _refuse_figures_key(cycle_id, section_key, by)
    name = clean_file_name(name)
    return store_section(
        cycle_id,
        section_key,
        read_section_bytes(data, name),
        name,
        by,
        settle=settle,
        submission_key=submission_key,
    )


def settle_submission(
    cycle_id: int,
    complete: bool | None = None,
    refresh: Callable[[int], object] = refresh_progress,
) -> bool:
    """What follows a stored submission: the progress table refreshed (the web app passes its
    `ProgressRefresher`'s mark), and the cycle's run woken when the set is complete (``None``:
    read from the database). Never raises: the submission is committed already, and the sweep
    wakes a run whose wake was lost. Returns whether the run was woken."""
    refresh(cycle_id)
    if complete is None:
        with session_scope() as session:
            complete = all_sections_in(session, cycle_id)
    return wake_after_commit(cycle_id) if complete else False


def _refuse_figures_key(cycle_id: int, section_key: str, by: str) -> None:
    if is_figures_key(section_key):
        raise UserError(
            f"'{section_key}' là số liệu các chỉ tiêu, không phải một phần văn bản. Gửi bằng: "
            f"reportflow submit {cycle_id} --indicators <tệp .yaml> --by {by}"
        )


def store_section(
    cycle_id: int,
    section_key: str,
    parsed: tuple[SectionContent, bytes, str],
    source_name: str,
    by: str,
    settle: bool = True,
    submission_key: str | None = None,
) -> SubmissionResult:
    content, data, fmt = parsed
    source_name = clean_file_name(source_name)
    # The cycle row is held FOR SHARE: a change of its state (the draft, a decision) waits for
    # this submission and then sees it, but the divisions' submissions do not wait for each
    # other (under 10 at once, one lock on the cycle made each confirm wait 0.4 s). Whether the
    # set is complete is read after the commit, where two last submissions at once both see it.
    with session_scope(write_lock=True) as session:
        cycle = get_cycle(session, cycle_id, for_share=True)
        assignment = _locked_assignment(session, cycle, section_key)
        repeated = _stored_under(session, cycle, section_key, submission_key, by)
        if repeated is not None:
            return repeated
        refuse_unless_collecting(cycle)
        person = get_person(session, by)
        division = assignment.division_code
        _check_owner(person, assignment, division_name(session, division))
        last = session.exec(
            select(func.max(SectionVersion.version_no)).where(
                SectionVersion.assignment_id == assignment.id
            )
        ).one()
        version_no = (last or 0) + 1
        session.add(
            SectionVersion(
                assignment_id=assignment.id,
                version_no=version_no,
                blocks=content.to_json(),
                source_name=source_name,
                source_format=fmt,
                source_bytes=data,
                sha256=hashlib.sha256(data).hexdigest(),
                submitted_by=person.code,
                submission_key=submission_key,
            )
        )
        assignment.state = "submitted"
        assignment.return_comment = ""
        session.add(assignment)
        record_event(
            session,
            person.code,
            "section.submitted",
            cycle_id,
            section=section_key,
            version=version_no,
        )
    with session_scope() as session:
        complete = all_sections_in(session, cycle_id)
    woke = settle_submission(cycle_id, complete) if settle else False
    return SubmissionResult(cycle_id, section_key, version_no, complete, woke)


def _stored_under(
    session: Session, cycle: Cycle, section_key: str, submission_key: str | None, by: str
) -> SubmissionResult | None:
    """The version a confirm with this key already stored (looked up before the state check: a
    resend after the last section closed the cycle still gets its receipt)."""
    if not submission_key:
        return None
    version = session.exec(
        select(SectionVersion.version_no)
        .join(SectionAssignment, SectionAssignment.id == SectionVersion.assignment_id)
        .where(
            SectionAssignment.cycle_id == cycle.id,
            SectionAssignment.section_key == section_key,
            SectionVersion.submission_key == submission_key,
            SectionVersion.submitted_by == by,
        )
    ).first()
    if version is None:
        return None
    complete = all_sections_in(session, cycle.id)
    return SubmissionResult(cycle.id, section_key, version, complete, False, repeated=True)


def read_indicator_file(path: Path) -> dict[str, object]:
    if not path.is_file():
        raise UserError(f"Không tìm thấy tệp '{path}'.")
    try:
        data = load_yaml_file(path, FIGURES_FILE_LIMITS)
    except YamlRefused as exc:
        raise UserError(f"Không nhận tệp số liệu: {exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(
            f"Tệp số liệu '{path.name}' không đọc được (cần YAML 'mã: giá trị')."
        ) from exc
    if not isinstance(data, dict) or not data:
        raise UserError(f"Tệp số liệu '{path.name}' phải là danh sách 'mã chỉ tiêu: giá trị'.")
    if len(data) > MAX_FIGURE_CODES:
        raise UserError(
            f"Tệp số liệu '{path.name}' có {len(data)} chỉ tiêu, vượt giới hạn "
            f"{MAX_FIGURE_CODES} chỉ tiêu mỗi tệp."
        )
    return data


class FigureProblems(UserError):
    """Some figures were wrong and nothing was stored; `problems` maps each code to why."""

    def __init__(self, message: str, problems: dict[str, str]):
        super().__init__(message)
        self.problems = problems


def submit_indicators(cycle_id: int, source: Path, by: str) -> list[str]:
    return submit_indicator_values(cycle_id, read_indicator_file(source), by, source.name)


def submit_indicator_values(
    cycle_id: int, values: dict[str, object], by: str, source_name: str, settle: bool = True
) -> list[str]:
    """The figures of a file (CLI) or of the web form, checked by the same rules."""
    with session_scope(write_lock=True) as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        refuse_unless_collecting(cycle)
        definition = cycle_definition(session, cycle)
        person = get_person(session, by)
        own_division = division_name(session, person.division_code or "")
        rows, problems, by_code = [], [], {}
        for code, raw in values.items():
            spec = definition.indicator(str(code))
            if spec is None:
                known = ", ".join(i.code for i in definition.indicators.items)
                raise UserError(
                    f"Không có chỉ tiêu '{code}' trong báo cáo này. Các chỉ tiêu: {known}."
                )
            if spec.owner != person.division_code:
                raise Forbidden(
                    f"Chỉ tiêu '{spec.name.strip('- ')}' do {division_name(session, spec.owner)} "
                    f"phụ trách; {person.name} ({own_division}) không thể gửi."
                )
            note = ""
            if isinstance(raw, dict):
                raw, note = raw.get("value", ""), str(raw.get("note", "") or "").strip()
            try:
                reading = read_indicator(spec, raw)
            except IndicatorValueError as exc:
                by_code[spec.code] = str(exc)
                problems.append(
                    f"- chỉ tiêu '{spec.name.strip('- ')}' ({spec.code}) của {own_division}: {exc}"
                )
                continue
            rows.append((spec, reading.text, reading.number, note))
        if problems:
            raise FigureProblems(
                f"Tệp số liệu '{source_name}' có {len(problems)} giá trị sai; chưa lưu gì. "
                "Sửa rồi gửi lại:\n" + "\n".join(problems),
                by_code,
            )
        for spec, text, number, note in rows:
            last = session.exec(
                select(func.max(IndicatorValue.version_no)).where(
                    IndicatorValue.cycle_id == cycle_id, IndicatorValue.indicator_code == spec.code
                )
            ).one()
            session.add(
                IndicatorValue(
                    cycle_id=cycle_id,
                    indicator_code=spec.code,
                    version_no=(last or 0) + 1,
                    value_text=text,
                    value_number=float(number) if number is not None else None,
                    note=note,
                    division_code=spec.owner,
                    submitted_by=person.code,
                )
            )
        record_event(
            session, person.code, "indicators.submitted", cycle_id, codes=[r[0].code for r in rows]
        )
        session.flush()
        mark_figures_in(session, definition, cycle_id, person.division_code or "")
        complete = all_sections_in(session, cycle_id)
    if settle:
        settle_submission(cycle_id, complete)
    return [r[0].code for r in rows]
