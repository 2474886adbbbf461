"""The shape of a report definition and of the organisation file, validated on load."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reportflow.document.writing.numbering import DEFAULT_NUMBERING, NUMBERING_PATTERNS

if TYPE_CHECKING:
    from reportflow.calendar.ladder import LadderStep


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


APPRISE_ENV_PREFIX = "REPORTFLOW_APPRISE_"
_ENV_REFERENCE = re.compile(r"\$\{([^}]*)\}")


def check_apprise_urls(urls: list[str]) -> list[str]:
    """Secrets in apprise URLs are written `${REPORTFLOW_APPRISE_…}`: only variables meant for
    this are read, so a URL cannot send another secret (the signing key, a password) away."""
    for url in urls:
        for name in _ENV_REFERENCE.findall(url):
            if not re.fullmatch(rf"{APPRISE_ENV_PREFIX}[A-Z0-9_]+", name):
                raise ValueError(
                    f"biến môi trường '${{{name}}}' không dùng được trong địa chỉ apprise; "
                    f"đặt tên bắt đầu bằng {APPRISE_ENV_PREFIX}, ví dụ "
                    f"${{{APPRISE_ENV_PREFIX}TELEGRAM_TOKEN}}"
                )
    return urls


class DivisionSpec(Strict):
    """A division of the agency (phòng, trung tâm, thanh tra) that owns sections and figures."""

    code: str
    """The code that definitions name as a section's or an indicator's `owner`, e.g. `bcvt`."""
    name: str
    """Its full name, e.g. "Phòng Bưu chính - Viễn thông"."""
    short_name: str = ""
    """Its abbreviation, e.g. "BCVT"."""


class Reachable(Strict):
    """Where messages to a person or a recipient go."""

    email: str | None = None
    """The e-mail address, sent through the mail server of `REPORTFLOW_SMTP_*`."""
    apprise: list[str] = []
    """Apprise URLs; `${REPORTFLOW_APPRISE_…}` is read from the environment so secrets stay out
    of the YAML."""

    @field_validator("apprise")
    @classmethod
    def _apprise_secrets_from_environment(cls, urls: list[str]) -> list[str]:
        return check_apprise_urls(urls)


class PersonSpec(Reachable):
    """Someone who writes, decides or registers: named by `--by`, `signer.person`, the links."""

    code: str
    """The short code commands and definitions name the person by, e.g. `tp-bcvt`."""
    name: str
    """Full name, as mails and the signature block print it."""
    title: str = ""
    """Job title, e.g. "Trưởng phòng BCVT"."""
    role: Literal["head", "director", "clerk", "member"] = "member"
    """`head`: writes the division's sections and gets its reminders; `director`: decides the
    draft and is copied on late reminders; `clerk`: keeps the register; `member`: none of these."""
    division: str | None = None
    """The `code` of the person's division."""


class OrganisationSpec(Strict):
    """`organisation.yaml`: the agency, its divisions and its people, shared by its definitions."""

    parent_body: str
    """The governing body, first line of the letterhead (Decree 30 box 2), e.g. "UBND TỈNH TRÀ VINH"."""
    issuing_body: str
    """The issuing body, second line of the letterhead, e.g. "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"."""
    issuing_body_name: str
    """The body's name in running text, e.g. "Sở Thông tin và Truyền thông"."""
    place: str
    """The place before the date (Decree 30 box 4), e.g. "Trà Vinh"."""
    divisions: list[DivisionSpec]
    """Every division that owns sections or figures."""
    people: list[PersonSpec]
    """Every person who writes, decides or keeps the register."""

    @model_validator(mode="after")
    def _check_references(self) -> OrganisationSpec:
        codes = {d.code for d in self.divisions}
        for person in self.people:
            if person.division and person.division not in codes:
                raise ValueError(
                    f"người '{person.code}' thuộc đơn vị '{person.division}' không có trong danh sách"
                )
        return self

    def division_codes(self) -> set[str]:
        return {d.code for d in self.divisions}


class OutlineItem(Strict):
    """A heading of the report's body; numbered from its position unless it has a `marker`."""

    title: str
    """The heading as printed; may use `{{ year }}`."""
    key: str | None = None
    """Set on a section someone writes; headings that only group others have none."""
    owner: str | None = None
    """The `code` of the division that writes this section; given together with `key`."""
    marker: str = ""
    """An unnumbered heading shows this marker (e.g. "*") instead of a number."""
    indicators: bool = False
    """The indicator table (`indicators`) is printed under this heading."""
    children: list[OutlineItem] = []
    """The headings one level down."""

    @model_validator(mode="after")
    def _owner_needs_key(self) -> OutlineItem:
        if (self.key is None) != (self.owner is None):
            raise ValueError(
                f"mục '{self.title}': cần khai báo cả 'key' và 'owner', hoặc không cái nào"
            )
        return self


class AppendixSpec(Strict):
    """A Phụ lục printed after the signature block, on pages of its own (Decree 30, Phụ lục I,
    part III.1). The body should point to it in its own words, e.g. "(chi tiết tại Phụ lục I)"."""

    title: str
    """The appendix's name, printed in capitals under "Phụ lục I"; Jinja as in the summary, e.g.
    "Số liệu chuyển đổi số năm {{ year }}"."""
    outline: list[OutlineItem] = []
    """Sections of the appendix, written by divisions exactly like the body's `outline` (the same
    fields, numbered I., 1., … afresh in each appendix); their keys share one namespace with the
    body's."""
    indicators: bool = False
    """Print the indicator table in this appendix, under its title, instead of in the body. At
    most one place in a definition (an outline item or an appendix) holds the table."""


class IndicatorSpec(Strict):
    """One row of the indicator table, whose result a division submits as a figure."""

    code: str
    """The indicator's key in the figures a division submits."""
    name: str
    """The row's name as printed, e.g. "- Tỷ lệ xã có bưu điện văn hóa xã"."""
    unit: str
    """The unit column, e.g. "Xã", "%"."""
    plan: str
    """The year's plan as printed, written the Vietnamese way ("98,82", "1.250")."""
    owner: str
    """The `code` of the division that submits the result."""
    kind: Literal["number", "percent", "ratio", "text"] = "text"
    """A ratio is submitted as "82/85"; with unit "%" the table shows its percent, "96,47"."""
    min: float | None = None
    """A smaller result is refused (for `number`, `percent` and a ratio's percent)."""
    max: float | None = None
    """A larger result is refused."""

    @model_validator(mode="after")
    def _check_kind(self) -> IndicatorSpec:
        if self.kind == "percent" and self.unit.strip() != "%":
            raise ValueError(
                f"chỉ tiêu '{self.code}' là tỷ lệ phần trăm nên đơn vị tính phải là '%', "
                f"không phải '{self.unit}'"
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"chỉ tiêu '{self.code}': min ({self.min:g}) lớn hơn max ({self.max:g})"
            )
        return self


PercentSign = Literal["none", "ratio", "all"]


class IndicatorTableSpec(Strict):
    """The indicator table (Chỉ tiêu, Đơn vị tính, Kế hoạch, Kết quả) and its rows."""

    plan_header: str = "Kế hoạch năm {{ year }}"
    """The plan column's header."""
    result_header: str = "Kết quả {{ period_label }}"
    """The result column's header."""
    rate_header: str | None = None
    """When set, a computed column with this header shows each result as a share of the plan."""
    items: list[IndicatorSpec] = []
    """The rows, in order."""
    percent_sign: PercentSign = "none"
    """Which results in percent print "%" in the result column: `none` (the unit column
    already says %, so "83,4" and "95,56" alike), `ratio` (only percents computed from a ratio
    "82/85": "100" beside "96,47%", as the sample report prints them), or `all`."""

    @model_validator(mode="after")
    def _plans_are_numbers(self) -> IndicatorTableSpec:
        if self.rate_header is None:
            return self
        from reportflow.core.vi_format import parse_number

        for item in self.items:
            if item.kind == "text":
                continue
            try:
                parse_number(item.plan.removesuffix("%").strip())
            except ValueError:
                raise ValueError(
                    f"chỉ tiêu '{item.code}': kế hoạch '{item.plan}' phải là một số "
                    "để tính tỷ lệ so với kế hoạch"
                ) from None
        return self


class RecipientSpec(Reachable):
    """A line under "Nơi nhận:" and where the numbered report is dispatched."""

    key: str
    """A short key for the recipient, unique in the definition."""
    label: str
    """The line under "Nơi nhận:", e.g. "Sở KH&ĐT (b/c)"."""
    requester: bool = False
    """The body that asked for the report: its dispatch mail quotes the request's number."""
    addressee: bool = False
    """Named on the "Kính gửi:" line under the title (a report sent upward, Decree 30 box 9a);
    under "Nơi nhận:" all addressees are the one line "Như trên", as the decree writes it."""
    addressee_label: str = ""
    """How the "Kính gửi:" line and the mail's greeting name it; the label when empty."""

    @property
    def greeting_name(self) -> str:
        return self.addressee_label or self.label


SIGNING_AUTHORITIES = ("TM.", "KT.", "TL.", "TUQ.", "Q.")
"""Decree 30: thay mặt, ký thay, thừa lệnh, thừa ủy quyền, quyền."""
BY_ORDER = ("TL.", "TUQ.")
"""Authorities under which the signer signs what the head decided."""


class SignerSpec(Strict):
    """The signature block (Decree 30 box 7): authority, title lines and the signer's name."""

    title: str
    """The signer's own title: "GIÁM ĐỐC", or "PHÓ GIÁM ĐỐC" when signing KT. for the director."""
    person: str
    """The `code` of the person who signs (organisation.yaml); the block prints the name."""
    authority: Literal["", "TM.", "KT.", "TL.", "TUQ.", "Q."] = ""
    """Decree 30's signing authority: TM. (thay mặt), KT. (ký thay), TL. (thừa lệnh), TUQ.
    (thừa ủy quyền), Q. (quyền); empty when the head signs in his own name."""
    on_behalf_of: str = ""
    """Whose place the signer signs in, after the authority: "GIÁM ĐỐC" in "KT. GIÁM ĐỐC",
    "ỦY BAN NHÂN DÂN" in "TM. ỦY BAN NHÂN DÂN"."""

    @model_validator(mode="after")
    def _authority_needs_whom(self) -> SignerSpec:
        if bool(self.authority) != bool(self.on_behalf_of.strip()):
            raise ValueError(
                "người ký: 'authority' (TM., KT., TL., TUQ., Q.) và 'on_behalf_of' (ví dụ "
                "GIÁM ĐỐC) phải khai báo cùng nhau"
            )
        return self

    @property
    def title_lines(self) -> str:
        """As the signature block prints it: "KT. GIÁM ĐỐC" over "PHÓ GIÁM ĐỐC"."""
        if not self.authority:
            return self.title
        return f"{self.authority} {self.on_behalf_of.strip()}\n{self.title}"


class OfficeHours(Strict):
    """Reminders go out only in [start, end), Asia/Ho_Chi_Minh, on working days.

    The defaults equal ``calendar.ladder.OFFICE_START``/``OFFICE_END`` but are not imported from
    there: the calendar package loads the holidays tables, which this schema (and so every CLI
    command) should not pay for.
    """

    start: dt.time = dt.time(7, 30)
    """Opening time, quoted: "07:30"."""
    end: dt.time = dt.time(17, 0)
    """Closing time, quoted: "17:00"."""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_text(cls, value: object) -> object:
        # Unquoted 07:30 is the integer 450 in YAML 1.1 (base 60), which pydantic would read as seconds.
        if isinstance(value, dt.time):
            return value
        if not isinstance(value, str):
            raise ValueError(
                f'giờ phải viết trong dấu nháy, dạng "HH:MM" (ví dụ "07:30"), không phải {value!r}'
            )
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f'giờ "{value}" không hợp lệ; viết dạng "HH:MM", ví dụ "07:30"'
            ) from None

    @model_validator(mode="after")
    def _start_before_end(self) -> OfficeHours:
        if not self.start < self.end:
            raise ValueError(
                f"giờ bắt đầu ({self.start:%H:%M}) phải trước giờ kết thúc ({self.end:%H:%M})"
            )
        return self


MAX_OUTLINE_LEVELS = 9


class ReportDefinition(Strict):
    """A report definition: one YAML file per report an agency writes again and again."""

    code: str
    """The definition's code, as `reportflow cycle open CODE` names it; the file is `CODE.yaml`."""
    name: str
    """The report's name, as lists and mails show it."""
    doc_type: str = "BC"
    """The document type's abbreviation in the number and the register (Decree 30 Phụ lục III)."""
    doc_type_name: str = "BÁO CÁO"
    """The document type's name above the summary (Decree 30 box 5a)."""
    number_pattern: str
    """The document's number and symbol; the register fills `{number}`, e.g. "{number}/BC-STTTT-VP"."""
    summary: str
    """The summary (trích yếu) under the document type (Decree 30 box 5a); may use `{{ year }}`."""
    intro: list[str] = []
    """Paragraphs before the outline; may use `{{ year }}`, `{{ request.number }}`,
    `{{ request.date }}`, `{{ request.sender }}`, `{{ request.subject }}`."""
    closing: list[str] = []
    """Paragraphs after the outline, before the signature; the same placeholders as `intro`."""
    period_label: str = ""
    """The period in words without the year ("6 tháng đầu năm"); empty: named from
    `period_kind`. A cycle opened for another period kind names its own."""
    period_kind: Literal[
        "monthly", "quarterly", "first_half", "nine_months", "last_half", "annual", "ad_hoc"
    ] = "ad_hoc"
    """Decree 09/2019 period (`calendar.periods.PeriodKind`): sets the cut-off and the default deadline."""
    internal_deadline_working_days_before: int = Field(default=3, ge=0)
    """The divisions' deadline, this many working days before the sending deadline; a cycle
    may override it."""
    signer: SignerSpec
    """Who signs by default, and in whose place; he approves the draft."""
    approvers: list[SignerSpec] = []
    """Who else may approve, each with the signature block the final then carries when he does
    (a deputy: KT. GIÁM ĐỐC over PHÓ GIÁM ĐỐC). Approval codes go to the signer and these only.
    Under a TL./TUQ. signer, these decide and the signer signs; none listed: the people with
    the director's role decide."""
    outline: list[OutlineItem]
    """The body's headings and the sections the divisions write, in order."""
    indicators: IndicatorTableSpec = IndicatorTableSpec()
    """The indicator table; empty `items`: no table."""
    recipients: list[RecipientSpec]
    """The lines under "Nơi nhận:" (Decree 30 box 9b), in order; each gets the numbered report."""
    appendices: list[AppendixSpec] = []
    """Appendices after the signature block, in this order; numbered "Phụ lục I", "Phụ lục II"
    when there are several, each with the line "(Kèm theo Báo cáo số … ngày … của …)"."""
    archive_line: str = "Lưu: VT."
    """The last line under "Nơi nhận:"."""
    send_docx_too: bool = False
    """When the report is issued as a signed PDF, the recipients also get it as DOCX (to reuse
    its text; without signatures, so not the original)."""
    reminder_ladder: list[dict[str, Any]] | None = None
    """The reminders' steps; unset: the default ladder. Each step is `{at: N}` (working days
    from the divisions' deadline, negative before it) with optional `key`, `repeat_daily`,
    `copy_director` and `tone` (friendly, firm, urgent); one item may be `{copy_director_from: N}`
    (`reportflow.calendar.ladder.ladder_from_config`)."""
    office_hours: OfficeHours = OfficeHours()
    """When reminders may go out."""
    numbering: list[str] = list(DEFAULT_NUMBERING)
    """One pattern per outline level: "I.", "1.", "1.1." (its parent's number then its own),
    "a)" or "-"; deeper levels than given reuse the last."""

    @field_validator("numbering")
    @classmethod
    def _check_numbering(cls, value: list[str]) -> list[str]:
        allowed = ", ".join(f'"{p}"' for p in NUMBERING_PATTERNS)
        if not value or len(value) > MAX_OUTLINE_LEVELS:
            raise ValueError(
                f"numbering cần từ 1 đến {MAX_OUTLINE_LEVELS} kiểu đánh số, mỗi cấp đề mục một "
                f"kiểu, chọn trong: {allowed}"
            )
        wrong = [p for p in value if p not in NUMBERING_PATTERNS]
        if wrong:
            raise ValueError(
                f"kiểu đánh số không hợp lệ: {', '.join(repr(p) for p in wrong)}; chỉ dùng được "
                f'{allowed} (ví dụ ["I.", "1.", "a)", "-"])'
            )
        return value

    @field_validator("reminder_ladder")
    @classmethod
    def _parse_ladder(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if value is not None:
            from reportflow.calendar.ladder import ladder_from_config

            try:
                ladder_from_config(value)
            except ValueError as exc:
                raise ValueError(f"thang nhắc việc không hợp lệ: {exc}") from None
        return value

    def ladder(self) -> tuple[LadderStep, ...]:
        from reportflow.calendar.ladder import DEFAULT_LADDER, ladder_from_config

        if self.reminder_ladder is None:
            return DEFAULT_LADDER
        return tuple(ladder_from_config(self.reminder_ladder))

    @model_validator(mode="after")
    def _check_shape(self) -> ReportDefinition:
        if "{number}" not in self.number_pattern:
            raise ValueError("number_pattern phải chứa '{number}'")
        if not re.fullmatch(r"[A-ZĐ]+", self.doc_type):
            raise ValueError(f"doc_type '{self.doc_type}' phải là chữ viết tắt in hoa, ví dụ BC")
        keys = [item.key for item in self.walk() if item.key]
        duplicates = {k for k in keys if keys.count(k) > 1}
        if duplicates:
            raise ValueError(f"khóa mục bị trùng: {', '.join(sorted(duplicates))}")
        tables = [f"mục '{item.title}'" for item in self.walk() if item.indicators]
        tables += [f"phụ lục '{a.title}'" for a in self.appendices if a.indicators]
        if len(tables) > 1:
            raise ValueError(
                "bảng chỉ tiêu chỉ được đặt ở một chỗ, nhưng được khai báo ở "
                f"{len(tables)} chỗ: {', '.join(tables)}"
            )
        reserved = [k for k in keys if k.startswith("so-lieu-")]
        if reserved:
            raise ValueError(
                f"khóa mục không được bắt đầu bằng 'so-lieu-' (dành cho số liệu chỉ tiêu): "
                f"{', '.join(reserved)}"
            )
        return self

    def walk(self) -> Iterator[OutlineItem]:
        """Every outline item in reading order: the body's, then each appendix's."""
        roots = [*self.outline, *(item for a in self.appendices for item in a.outline)]
        stack = list(reversed(roots))
        while stack:
            item = stack.pop()
            yield item
            stack.extend(reversed(item.children))

    def sections(self) -> list[OutlineItem]:
        return [item for item in self.walk() if item.key]

    def section(self, key: str) -> OutlineItem | None:
        return next((s for s in self.sections() if s.key == key), None)

    @property
    def signer_decides(self) -> bool:
        """A signer by order (TL.) or by delegation (TUQ.) of the head signs what the head
        decided; every other signer (in his own name, KT., TM., Q.) decides what he signs."""
        return self.signer.authority not in BY_ORDER

    def deciders(self) -> list[SignerSpec]:
        """Who gets a code, in that order: the signer when he decides, then the approvers.
        Empty (a TL. signer and no approvers): the people with the director's role decide."""
        found: dict[str, SignerSpec] = {}
        for spec in ([self.signer] if self.signer_decides else []) + list(self.approvers):
            found.setdefault(spec.person, spec)
        return list(found.values())

    def signer_for(self, person_code: str | None) -> SignerSpec:
        """The signature block of whoever approved; the default signer's before a decision, and
        always under a TL./TUQ. signer (he signs by order of whoever decided)."""
        if not self.signer_decides:
            return self.signer
        return next((s for s in self.deciders() if s.person == person_code), self.signer)

    def indicator(self, code: str) -> IndicatorSpec | None:
        return next((i for i in self.indicators.items if i.code == code), None)

    def check_against(self, organisation: OrganisationSpec) -> None:
        """Every owner must be a known division and the signer a known person."""
        divisions = organisation.division_codes()
        people = {p.code for p in organisation.people}
        problems = [
            f"mục '{s.key}' do đơn vị '{s.owner}' phụ trách, nhưng đơn vị này không có trong tổ chức"
            for s in self.sections()
            if s.owner not in divisions
        ]
        problems += [
            f"chỉ tiêu '{i.code}' do đơn vị '{i.owner}' phụ trách, nhưng đơn vị này không có trong tổ chức"
            for i in self.indicators.items
            if i.owner not in divisions
        ]
        if self.signer.person not in people:
            problems.append(f"người ký '{self.signer.person}' không có trong tổ chức")
        problems += [
            f"người phê duyệt '{a.person}' không có trong tổ chức"
            for a in self.approvers
            if a.person not in people
        ]
        if problems:
            raise DefinitionError(self.code, problems)


class DefinitionError(ValueError):
    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"Định nghĩa báo cáo '{source}' không hợp lệ: " + "; ".join(problems))
