"""The indicator table: figures read and checked against their indicator, computed columns in
Vietnamese formats, and wrong figures refused with the indicator and the division named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from pydantic import ValidationError

from reportflow.core.errors import UserError
from reportflow.cycle.collecting.submit import submit_indicators
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.documents import document_file
from reportflow.cycle.drafting.merge import build_document, render_draft
from reportflow.definitions.indicators import (
    IndicatorValueError,
    rate_against_plan,
    read_indicator,
    result_cell,
)
from reportflow.definitions.schema import IndicatorSpec, IndicatorTableSpec
from reportflow.models import session_scope
from tests.factories import open_sample_cycle, row_counts, use_definitions


def spec(kind: str, unit: str = "%", plan: str = "100", **extra) -> IndicatorSpec:
    return IndicatorSpec(
        code="ct", name="- Chỉ tiêu thử", unit=unit, plan=plan, owner="bcvt", kind=kind, **extra
    )


@pytest.mark.parametrize(
    ("kind", "unit", "raw", "shown"),
    [
        ("ratio", "%", "82/85", "96,47"),
        ("ratio", "%", "85/85", "100"),
        ("ratio", "%", "1/3", "33,33"),
        ("ratio", "Xã", "82/85 xã", "82/85"),
        ("number", "Giờ/năm", "228", "228"),
        ("number", "Giờ/năm", "1626", "1.626"),
        ("number", "Giờ/năm", "547,5 giờ", "547,5"),
        ("number", "Giờ/năm", 228, "228"),
        ("percent", "%", "96,5%", "96,5"),
        ("percent", "%", "100", "100"),
        ("text", "Xã", "82/85 xã có điểm BD-VHX", "82/85 xã có điểm BD-VHX"),
    ],
)
def test_result_is_shown_in_vietnamese_format(kind, unit, raw, shown):
    indicator = spec(kind, unit)
    assert result_cell(indicator, read_indicator(indicator, raw), percent_sign="none") == shown


@pytest.mark.parametrize(
    ("percent_sign", "percent_row", "ratio_row", "count_row"),
    [
        ("none", "83,4", "95,56", "82/85"),  # alike: the unit column says %
        ("ratio", "83,4", "95,56%", "82/85"),  # the sample report's style
        ("all", "83,4%", "95,56%", "82/85"),
    ],
)
def test_percent_and_ratio_rows_print_as_the_table_asks(
    percent_sign, percent_row, ratio_row, count_row
):
    percent, ratio, count = spec("percent"), spec("ratio"), spec("ratio", "Xã")
    shown = [
        result_cell(item, read_indicator(item, raw), percent_sign=percent_sign)
        for item, raw in [(percent, "83,4"), (ratio, "86/90"), (count, "82/85")]
    ]
    assert shown == [percent_row, ratio_row, count_row]


def test_the_sample_asks_for_the_seeds_style_and_a_new_table_prints_alike():
    from reportflow.definitions.loader import load_definition

    assert load_definition("ktxh-6-thang").indicators.percent_sign == "ratio"
    assert IndicatorTableSpec().percent_sign == "none"
    with pytest.raises(ValidationError, match="percent_sign"):
        IndicatorTableSpec(percent_sign="some")


def test_note_follows_the_computed_percent_as_in_the_sample():
    indicator = spec("ratio", "%", plan="98,82")
    reading = read_indicator(indicator, "82/85")
    assert (
        result_cell(indicator, reading, "82/85 xã có BD-VHX", percent_sign="ratio")
        == "96,47% (82/85 xã có BD-VHX)"
    )


@pytest.mark.parametrize(
    ("kind", "unit", "plan", "raw", "rate"),
    [
        ("ratio", "%", "98,82", "82/85", "97,62%"),
        ("ratio", "Xã", "84", "82/85", "97,62%"),
        ("number", "Giờ/năm", "547,5", "228", "41,64%"),
        ("number", "Km", "1.000", "1.250", "125%"),
        ("percent", "%", "80", "60", "75%"),
    ],
)
def test_rate_against_plan(kind, unit, plan, raw, rate):
    indicator = spec(kind, unit, plan)
    assert rate_against_plan(indicator, read_indicator(indicator, raw)) == rate


def test_rate_is_blank_for_text_and_for_a_plan_of_zero():
    text = spec("text", "Xã", "84")
    assert rate_against_plan(text, read_indicator(text, "82/85 xã")) == ""
    zero = spec("number", "Km", "0")
    assert rate_against_plan(zero, read_indicator(zero, "5")) == ""
    assert rate_against_plan(zero, None) == ""


@pytest.mark.parametrize(
    ("kind", "unit", "raw", "reason"),
    [
        ("number", "Giờ/năm", "khoảng hai trăm", "không phải là số"),
        ("number", "Giờ/năm", "228 xã", "đơn vị 'xã' không khớp"),
        ("number", "Giờ/năm", "228.5", "không phải là số"),
        ("percent", "%", "96,5 xã", "đơn vị 'xã' không khớp"),
        ("ratio", "%", "85/82", "không thể lớn hơn"),
        ("ratio", "%", "82/0", "phải lớn hơn 0"),
        ("ratio", "%", "82,5/85", "số nguyên"),
        ("ratio", "%", "82 trên 85", "tỷ số"),
        ("ratio", "%", "82/85 xã", "tính tự động"),
        ("ratio", "Xã", "82/85 hộ", "đơn vị 'hộ' không khớp"),
        ("text", "Xã", "   ", "thiếu giá trị"),
        ("number", "Giờ/năm", None, "thiếu giá trị"),
        ("number", "Giờ/năm", True, "thiếu giá trị"),
        ("number", "Giờ/năm", float("nan"), "không phải là số"),
        ("number", "Giờ/năm", float("inf"), "không phải là số"),
    ],
)
def test_wrong_figures_are_refused_with_the_reason(kind, unit, raw, reason):
    with pytest.raises(IndicatorValueError, match=reason):
        read_indicator(spec(kind, unit), raw)


def test_range_is_checked_on_the_computed_figure():
    indicator = spec("ratio", "%", min=50, max=100)
    assert read_indicator(indicator, "50/100").number == Decimal(50)
    with pytest.raises(IndicatorValueError, match="nhỏ hơn mức tối thiểu 50"):
        read_indicator(indicator, "40/100")
    hours = spec("number", "Giờ/năm", min=0, max=8784)
    with pytest.raises(IndicatorValueError, match="lớn hơn mức tối đa 8.784"):
        read_indicator(hours, "9.000")


def test_definition_refuses_a_percent_without_percent_unit_and_a_plan_that_is_not_a_number():
    with pytest.raises(ValidationError, match="đơn vị tính phải là '%'"):
        spec("percent", "Xã")
    with pytest.raises(ValidationError, match="min .* lớn hơn max"):
        spec("number", "Xã", min=10, max=1)
    with pytest.raises(ValidationError, match="kế hoạch 'khoảng 80' phải là một số"):
        IndicatorTableSpec(
            rate_header="Tỷ lệ so với kế hoạch", items=[spec("number", "Xã", "khoảng 80")]
        )


RATE_DEFINITION = """
code: chi-tieu-thu
name: Báo cáo chỉ tiêu thử
number_pattern: "{number}/BC-STTTT-BCVT"
summary: Kết quả thực hiện các chỉ tiêu năm {{ year }}
signer: {title: GIÁM ĐỐC, person: giamdoc}
outline:
  - {key: nhan-xet, owner: bcvt, title: NHẬN XÉT}
  - {title: CÁC CHỈ TIÊU, indicators: true}
indicators:
  result_header: "Kết quả 6 tháng"
  rate_header: "Tỷ lệ so với kế hoạch năm"
  items:
    - {code: ty-le-bdvhx, owner: bcvt, name: "- Tỷ lệ xã có bưu điện văn hóa xã", unit: "%", plan: "98,82", kind: ratio, min: 0, max: 100}
    - {code: so-xa, owner: bcvt, name: "- Số xã có điểm phục vụ bưu chính", unit: Xã, plan: "84", kind: ratio}
    - {code: phat-thanh, owner: ttbcxb, name: "- Thời lượng phát thanh bằng tiếng dân tộc", unit: Giờ/năm, plan: "547,5", kind: number, min: 0}
    - {code: ghi-chu, owner: bcvt, name: "- Ghi chú khác", unit: "", plan: "", kind: text}
recipients:
  - {key: skhdt, label: "Sở KH&ĐT (b/c)", email: thktkg@skhdt.travinh.example, requester: true}
"""


@pytest.fixture
def rate_cycle(database, tmp_path: Path) -> int:
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "chi-tieu-thu.yaml").write_text(RATE_DEFINITION, encoding="utf-8")
    use_definitions(folder)
    return open_sample_cycle("chi-tieu-thu")


def figures(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_computed_columns_reach_the_rendered_document(rate_cycle, tmp_path):
    submit_indicators(
        rate_cycle,
        figures(
            tmp_path,
            "bcvt.yaml",
            'ty-le-bdvhx: {value: "82/85", note: "82/85 xã có BD-VHX"}\n'
            'so-xa: "80/85 xã"\n'
            'ghi-chu: "Số liệu đến 31/5"\n',
        ),
        "tp-bcvt",
    )
    submit_indicators(
        rate_cycle, figures(tmp_path, "ttbcxb.yaml", "phat-thanh: 228\n"), "tp-ttbcxb"
    )
    with session_scope() as session:
        cycle = get_cycle(session, rate_cycle)
        table = next(node.table for node in build_document(session, cycle).outline if node.table)
        path = document_file(render_draft(session, cycle))

    expected = [
        [
            "TT",
            "Chỉ tiêu",
            "Đơn vị tính",
            "Kế hoạch năm 2020",
            "Kết quả 6 tháng",
            "Tỷ lệ so với kế hoạch năm",
        ],
        [
            "1",
            "- Tỷ lệ xã có bưu điện văn hóa xã",
            "%",
            "98,82",
            "96,47 (82/85 xã có BD-VHX)",  # percent_sign unset: "none", the unit says %
            "97,62%",
        ],
        ["2", "- Số xã có điểm phục vụ bưu chính", "Xã", "84", "80/85", "95,24%"],
        ["3", "- Thời lượng phát thanh bằng tiếng dân tộc", "Giờ/năm", "547,5", "228", "41,64%"],
        ["4", "- Ghi chú khác", "", "", "Số liệu đến 31/5", ""],
    ]
    assert [table.header, *table.rows] == expected

    reopened = Document(str(path))
    docx_table = next(t for t in reopened.tables if t.rows[0].cells[0].text == "TT")
    assert [[cell.text for cell in row.cells] for row in docx_table.rows] == expected
    for column in (3, 5):
        cell = docx_table.rows[1].cells[column].paragraphs[0]
        assert (cell.alignment or cell.style.paragraph_format.alignment) == WD_ALIGN_PARAGRAPH.RIGHT


def test_wrong_figures_name_each_indicator_and_division_and_nothing_is_stored(rate_cycle, tmp_path):
    before = row_counts()
    bad = figures(
        tmp_path,
        "bcvt.yaml",
        'ty-le-bdvhx: "85/82"\nso-xa: "80/85 hộ"\nghi-chu: "đúng"\n',
    )
    with pytest.raises(UserError) as error:
        submit_indicators(rate_cycle, bad, "tp-bcvt")
    message = str(error.value)
    assert "có 2 giá trị sai; chưa lưu gì" in message
    assert (
        "chỉ tiêu 'Tỷ lệ xã có bưu điện văn hóa xã' (ty-le-bdvhx) của Phòng Bưu chính - Viễn thông"
        in message
    )
    assert (
        "chỉ tiêu 'Số xã có điểm phục vụ bưu chính' (so-xa) của Phòng Bưu chính - Viễn thông"
        in message
    )
    assert "đơn vị 'hộ' không khớp với đơn vị tính của chỉ tiêu là 'Xã'" in message
    assert "ghi-chu" not in message
    assert row_counts() == before


def test_a_later_submission_replaces_the_figure_in_the_table(rate_cycle, tmp_path):
    submit_indicators(rate_cycle, figures(tmp_path, "a.yaml", 'so-xa: "70/85"\n'), "tp-bcvt")
    submit_indicators(rate_cycle, figures(tmp_path, "b.yaml", 'so-xa: "84/85"\n'), "tp-bcvt")
    with session_scope() as session:
        table = next(
            node.table
            for node in build_document(session, get_cycle(session, rate_cycle)).outline
            if node.table
        )
    assert table.rows[1][4:] == ["84/85", "100%"]
