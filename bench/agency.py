"""A generated agency of N divisions for the benches: organisation.yaml and one report definition
(one section per division) written into a folder for REPORTFLOW_DEFINITIONS_DIRS, and a
realistic section (a few hundred Vietnamese words, a list, a small table) for each division."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml

from reportflow.core.config import PACKAGE_DIR

DEFINITION = "bench-ktxh"
MAIL_DOMAIN = "bench.example"
BENCH_SECRET_KEY = "bench-only-secret-key-not-for-production"
DIRECTOR = "giamdoc"
OFFICE_HEAD = "chanhvp"
SECTIONS_DIR = PACKAGE_DIR / "demo" / "data" / "sections"
PROSE_SOURCES = ("tham-muu", "bcvt", "cntt", "thanh-tra", "cong-ttdt", "nhiem-vu")
REQUEST = {
    "number": "850/SKHĐT-THKTKG",
    "date": dt.date(2020, 5, 13),
    "sender": "Sở Kế hoạch và Đầu tư",
    "subject": "báo cáo tình hình KT-XH 6 tháng đầu năm 2020",
    "deadline": dt.date(2020, 6, 8),
}
CLOCK = "2020-06-01T09:00:00+07:00"
"""The bench's frozen clock: the request is open, the internal deadline a few days away."""


def division_code(index: int) -> str:
    return f"p{index:04d}"


def head_code(index: int) -> str:
    return f"tp-{division_code(index)}"


def write_agency(folder: Path, divisions: int, mail_domain: str = MAIL_DOMAIN) -> Path:
    """Writes organisation.yaml and the definition with one section per division; the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    organisation = {
        "parent_body": "UBND TỈNH TRÀ VINH",
        "issuing_body": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        "issuing_body_name": "Sở Thông tin và Truyền thông",
        "place": "Trà Vinh",
        "divisions": [
            {"code": "vp", "name": "Văn phòng", "short_name": "VP"},
            {"code": "bgd", "name": "Ban Giám đốc Sở", "short_name": "BGĐ"},
        ]
        + [
            {
                "code": division_code(i),
                "name": f"Phòng Nghiệp vụ số {i}",
                "short_name": f"NV{i}",
            }
            for i in range(1, divisions + 1)
        ],
        "people": [
            _person(DIRECTOR, "Trần Văn Khoản", "Giám đốc", "director", "bgd", mail_domain),
            _person(OFFICE_HEAD, "Nguyễn Thị Lan", "Chánh Văn phòng", "head", "vp", mail_domain),
            _person("vanthu", "Lê Thị Thu", "Văn thư", "clerk", "vp", mail_domain),
        ]
        + [
            _person(
                head_code(i),
                f"Trưởng phòng số {i}",
                f"Trưởng phòng Nghiệp vụ số {i}",
                "head",
                division_code(i),
                mail_domain,
            )
            for i in range(1, divisions + 1)
        ],
    }
    _dump(folder / "organisation.yaml", organisation)
    write_definition(folder, divisions, DEFINITION, mail_domain)
    return folder


def definition_code(divisions: int) -> str:
    return f"{DEFINITION}-{divisions}"


def write_definition(
    folder: Path, divisions: int, code: str | None = None, mail_domain: str = MAIL_DOMAIN
) -> str:
    """A report with one section for each of the first `divisions` divisions; its code."""
    code = code or definition_code(divisions)
    definition = {
        "code": code,
        "name": "Báo cáo tình hình thực hiện nhiệm vụ 6 tháng (thử tải)",
        "doc_type": "BC",
        "doc_type_name": "BÁO CÁO",
        "number_pattern": "{number}/BC-STTTT-VP",
        "summary": "Tình hình thực hiện nhiệm vụ 6 tháng đầu năm {{ year }} (thử tải)",
        "period_label": "6 tháng đầu năm",
        "period_kind": "first_half",
        "intro": [
            "Sở Thông tin và Truyền thông nhận được Công văn số {{ request.number }} ngày "
            "{{ request.date }} của {{ request.sender }}, báo cáo như sau:"
        ],
        "closing": ["Sở Thông tin và Truyền thông kính báo cáo./."],
        "internal_deadline_working_days_before": 3,
        "signer": {"title": "GIÁM ĐỐC", "person": DIRECTOR},
        "outline": [
            {
                "title": "KẾT QUẢ THỰC HIỆN NHIỆM VỤ CỦA CÁC PHÒNG",
                "children": [
                    {
                        "key": f"muc-{division_code(i)}",
                        "owner": division_code(i),
                        "title": f"Kết quả của Phòng Nghiệp vụ số {i}",
                    }
                    for i in range(1, divisions + 1)
                ],
            }
        ],
        "recipients": [
            {
                "key": "skhdt",
                "label": "Sở KH&ĐT (b/c)",
                "email": f"thktkg@skhdt.{mail_domain}",
                "requester": True,
            },
            {"key": "bgd", "label": "BGD Sở", "email": f"bangiamdoc@{mail_domain}"},
        ],
        "archive_line": "Lưu: VT.",
    }
    _dump(folder / f"{code}.yaml", definition)
    return code


def _person(code: str, name: str, title: str, role: str, division: str, domain: str) -> dict:
    return {
        "code": code,
        "name": name,
        "title": title,
        "role": role,
        "division": division,
        "email": f"{code}@{domain}",
    }


def _dump(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def section_key(index: int) -> str:
    return f"muc-{division_code(index)}"


def section_markdown(index: int, words: int = 350) -> str:
    """About `words` words of the sample report's own prose, a list and a 4×4 table."""
    source = SECTIONS_DIR / f"{PROSE_SOURCES[index % len(PROSE_SOURCES)]}.md"
    text = " ".join(
        line.lstrip("-* ").strip()
        for line in source.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("|")
    ).split()
    start = (index * 37) % max(1, len(text) - words)
    chunk = text[start : start + words]
    third = len(chunk) // 3
    paragraphs = [" ".join(chunk[:third]), " ".join(chunk[third : 2 * third])]
    items = [
        f"- Hoàn thành {index % 7 + 3} nhiệm vụ trọng tâm theo kế hoạch năm 2020.",
        "- Phối hợp với các cơ quan, đơn vị liên quan triển khai thực hiện đúng tiến độ.",
        f"- Tham mưu ban hành {index % 5 + 2} văn bản chỉ đạo, điều hành.",
    ]
    table = [
        "| TT | Chỉ tiêu | Kế hoạch | Kết quả |",
        "|---|---|---|---|",
        f"| 1 | Văn bản đến được xử lý | {100 + index % 50} | {90 + index % 40} |",
        f"| 2 | Hồ sơ giải quyết đúng hạn | {60 + index % 20} | {55 + index % 20} |",
        f"| 3 | Tỷ lệ hoàn thành (%) | 100 | {80 + index % 20},5 |",
    ]
    return "\n\n".join(
        [
            paragraphs[0],
            "\n".join(items),
            paragraphs[1],
            "\n".join(table),
            " ".join(chunk[2 * third :]),
        ]
    )


def agency_environment(folder: Path, divisions: int, **extra: str) -> dict[str, str]:
    """The REPORTFLOW_* settings of a bench installation in `folder` (its own data folder, the
    generated definitions, a fixed key, the frozen clock), for this process and its children."""
    definitions = write_agency(folder / "definitions", divisions)
    return {
        "REPORTFLOW_DATA_DIR": str(folder / "data"),
        "REPORTFLOW_DEFINITIONS_DIRS": json.dumps([str(definitions)]),
        "REPORTFLOW_SECRET_KEY": BENCH_SECRET_KEY,
        "REPORTFLOW_FROZEN_NOW": CLOCK,
        "REPORTFLOW_MAIL_FROM": f"vanphong@{MAIL_DOMAIN}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        **extra,
    }


def open_bench_cycle(definition: str = DEFINITION) -> int:
    """Opens a cycle of a generated definition on the configured database."""
    from reportflow.cycle.cycles import open_cycle
    from reportflow.cycle.opening.plan import CycleRequest
    from reportflow.models import session_scope

    with session_scope() as session:
        return open_cycle(session, definition, CycleRequest(**REQUEST), OFFICE_HEAD).id


def section_links(cycle_id: int, divisions: range) -> dict[int, str]:
    """Each division head's link to its section, as the request mail would carry it."""
    from reportflow.cycle.links import make_link
    from reportflow.models import session_scope

    with session_scope() as session:
        return {i: make_link(session, cycle_id, section_key(i), head_code(i)) for i in divisions}
