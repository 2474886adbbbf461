"""Document bench: our renderer against docxtpl on the same large content, and the sample report."""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docx
from docxtpl import DocxTemplate

from bench.results import Row
from reportflow.document.blocks import Paragraph, Run, SectionContent, Table
from reportflow.document.writing.render import render_report_bytes
from reportflow.document.writing.report import OutlineNode, ReportDocument

SECTIONS = 100
PARAGRAPHS = 10
TABLES = 20
TABLE_ROWS = 20
TABLE_COLS = 5
GOAL_RATIO = 1.5
SENTENCE = (
    "Tiếp tục triển khai thực hiện các nhiệm vụ phát triển kinh tế - xã hội của ngành thông tin "
    "và truyền thông, bảo đảm tiến độ và chất lượng theo kế hoạch đã đề ra; "
)


def large_content() -> list[dict]:
    """100 sections of 10 paragraphs; every fifth section carries a 21×5 table (20 in all)."""
    sections = []
    for s in range(SECTIONS):
        paragraphs = [f"{SENTENCE * 3}đoạn {p + 1} của mục {s + 1}." for p in range(PARAGRAPHS)]
        table = None
        if s % (SECTIONS // TABLES) == 0:
            header = ["TT", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch", "Kết quả"]
            rows = [
                [str(r + 1), f"Chỉ tiêu số {r + 1}", "%", f"{90 + r % 10},5", f"{80 + r % 20},25"]
                for r in range(TABLE_ROWS)
            ]
            table = {"header": header, "rows": rows}
        sections.append(
            {"title": f"Nội dung công tác số {s + 1}", "paragraphs": paragraphs, "table": table}
        )
    return sections


def as_report(sections: list[dict]) -> ReportDocument:
    nodes = []
    for section in sections:
        content = SectionContent([Paragraph([Run(p)]) for p in section["paragraphs"]])
        table = section["table"]
        nodes.append(
            OutlineNode(
                title=section["title"],
                level=2,
                content=content,
                table=Table(table["header"], table["rows"]) if table else None,
            )
        )
    return ReportDocument(
        parent_body="UBND TỈNH TRÀ VINH",
        issuing_body="SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        number_text="859/BC-STTTT-VP",
        place="Trà Vinh",
        issued_on=None,
        doc_type_name="BÁO CÁO",
        summary="Báo cáo thử tốc độ",
        intro=[],
        outline=[OutlineNode(title="KẾT QUẢ", level=1, children=nodes)],
        closing=[],
        recipients=["- Lưu: VT."],
        signer_title="GIÁM ĐỐC",
        signer_name="Trần Văn Khoản",
    )


def docxtpl_template(folder: Path) -> Path:
    """The template a user of docxtpl would write for the same content."""
    document = docx.Document()
    document.add_paragraph("{%p for s in sections %}")
    document.add_paragraph("{{ s.title }}", style="Heading 2")
    document.add_paragraph("{%p for p in s.paragraphs %}")
    document.add_paragraph("{{ p }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p if s.table %}")
    table = document.add_table(rows=4, cols=TABLE_COLS)
    table.style = "Table Grid"
    for c in range(TABLE_COLS):
        table.rows[0].cells[c].text = f"{{{{ s.table.header[{c}] }}}}"
        table.rows[2].cells[c].text = f"{{{{ row[{c}] }}}}"
    table.rows[1].cells[0].text = "{%tr for row in s.table.rows %}"
    table.rows[3].cells[0].text = "{%tr endfor %}"
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p endfor %}")
    path = folder / "template.docx"
    document.save(str(path))
    return path


def render_docxtpl(template: Path, sections: list[dict]) -> bytes:
    doc = DocxTemplate(str(template))
    doc.render({"sections": sections}, autoescape=True)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def sample_report() -> ReportDocument:
    """The sample report 859/BC-STTTT-VP built from the demo data, through the real merge."""
    from reportflow.demo.sample import build_sample_document

    return build_sample_document()


def main(runs: int = 3) -> list[Row]:
    sections = large_content()
    report = as_report(sections)
    with tempfile.TemporaryDirectory() as tmp:
        template = docxtpl_template(Path(tmp))
        ours = best_of(runs, lambda: render_report_bytes(report))
        theirs = best_of(runs, lambda: render_docxtpl(template, sections))
    sample = sample_report()
    sample_time = best_of(runs, lambda: render_report_bytes(sample))
    print(
        f"\nDocument bench ({SECTIONS} sections × {PARAGRAPHS} paragraphs, {TABLES} tables of {TABLE_ROWS + 1}×{TABLE_COLS}; best/median of {runs})"
    )
    print(f"  {'reportflow render':<26} {ours[0]:7.3f} s  {ours[1]:7.3f} s")
    print(f"  {'docxtpl (baseline)':<26} {theirs[0]:7.3f} s  {theirs[1]:7.3f} s")
    print(
        f"  {'ratio reportflow/docxtpl':<26} {ours[0] / theirs[0]:7.2f} ×   (goal ≤ {GOAL_RATIO:.2f} ×)"
    )
    print(f"  {'sample report 859/BC':<26} {sample_time[0]:7.3f} s  {sample_time[1]:7.3f} s")
    return [
        Row(
            id="D1",
            figure=(
                f"render {SECTIONS} sections × {PARAGRAPHS} paragraphs + {TABLES} tables "
                f"(best of {runs})"
            ),
            goal=f"≤ {GOAL_RATIO:g}× docxtpl",
            measured=ours[0],
            unit="s",
            baseline=theirs[0],
            baseline_label="docxtpl, same content",
            meets_goal=ours[0] <= GOAL_RATIO * theirs[0],
        ),
    ]
