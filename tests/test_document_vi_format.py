import datetime as dt
import random
from decimal import Decimal

import pytest

from reportflow.core.vi_format import (
    format_number,
    format_percent,
    is_numeric_text,
    long_date,
    parse_number,
    place_date_line,
    short_date,
)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (74019, None, "74.019"),
        (547.5, None, "547,5"),
        (1626, None, "1.626"),
        (26250000, None, "26.250.000"),
        (999, None, "999"),
        (0, None, "0"),
        (-1234, None, "-1.234"),
        (Decimal("1234567.891"), None, "1.234.567,891"),
        (Decimal("547.50"), None, "547,5"),
        (98.824, 2, "98,82"),
        (2.5, 0, "3"),
        (547.5, 2, "547,50"),
        (-0.001, 2, "0,00"),
    ],
)
def test_format_number(value, decimals, expected):
    assert format_number(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (96.47, "96,47%"),
        (73.8, "73,8%"),
        (100, "100%"),
        (3.04, "3,04%"),
        (21.40, "21,4%"),
        (96.4705, "96,47%"),
        (99.999, "100%"),
        (0, "0%"),
        (Decimal("0.005"), "0,01%"),
    ],
)
def test_format_percent(value, expected):
    assert format_percent(value) == expected


def test_format_percent_decimals():
    assert format_percent(31.0417, decimals=1) == "31%"
    assert format_percent(27.66, decimals=1) == "27,7%"


def test_format_number_rejects_non_numbers():
    with pytest.raises(TypeError):
        format_number("12")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_number(True)
    with pytest.raises(ValueError):
        format_number(float("nan"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("74.019", Decimal(74019)),
        ("547,5", Decimal("547.5")),
        ("98,82", Decimal("98.82")),
        ("1.626", Decimal(1626)),
        ("26.250.000", Decimal(26250000)),
        ("2434", Decimal(2434)),
        (" 100 ", Decimal(100)),
        ("-1.234,5", Decimal("-1234.5")),
        ("\u22125", Decimal(-5)),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1.5", "1.0000", "1,2,3", "74,019.5", "1 000", "12%"])
def test_parse_number_rejects(text):
    with pytest.raises(ValueError) as info:
        parse_number(text)
    message = str(info.value)
    assert repr(text) in message
    assert "dấu chấm" in message and "dấu phẩy" in message


def test_format_then_parse_round_trips():
    rng = random.Random(20200605)
    for _ in range(500):
        integer = rng.randint(-(10**12), 10**12)
        assert parse_number(format_number(integer)) == integer
        value = Decimal(rng.randint(-(10**9), 10**9)).scaleb(-rng.randint(1, 4))
        assert parse_number(format_number(value)) == value


@pytest.mark.parametrize(
    ("text", "numeric"),
    [
        ("96,47%", True),
        ("100", True),
        ("547,5", True),
        ("26.250.000đ", True),
        ("26.250.000 đồng", True),
        ("82/85", False),
        ("96,47% (82/85 xã có BD-VHX)", False),
        ("Xã", False),
        ("%", False),
        ("", False),
    ],
)
def test_is_numeric_text(text, numeric):
    assert is_numeric_text(text) is numeric


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (dt.date(2020, 5, 13), "13/5/2020"),
        (dt.date(2020, 1, 16), "16/01/2020"),
        (dt.date(2020, 3, 5), "05/3/2020"),
        (dt.date(2020, 1, 1), "01/01/2020"),
        (dt.date(2019, 4, 22), "22/4/2019"),
        (dt.date(2020, 2, 29), "29/02/2020"),
        (dt.date(2016, 10, 19), "19/10/2016"),
    ],
)
def test_short_date(date, expected):
    assert short_date(date) == expected


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (dt.date(2020, 6, 5), "ngày 05 tháng 6 năm 2020"),
        (dt.date(2021, 1, 15), "ngày 15 tháng 01 năm 2021"),
        (dt.date(2021, 2, 1), "ngày 01 tháng 02 năm 2021"),
        (dt.date(2020, 12, 31), "ngày 31 tháng 12 năm 2020"),
        (dt.date(2020, 10, 10), "ngày 10 tháng 10 năm 2020"),
    ],
)
def test_long_date(date, expected):
    assert long_date(date) == expected


def test_place_date_line():
    assert place_date_line("Trà Vinh", dt.date(2020, 6, 5)) == "Trà Vinh, ngày 05 tháng 6 năm 2020"
    assert place_date_line(" Hà Nội ", dt.date(2021, 1, 15)) == "Hà Nội, ngày 15 tháng 01 năm 2021"
    assert place_date_line("Trà Vinh", None) == "Trà Vinh, ngày … tháng … năm …"


def test_ordinary_numbers_are_written_as_babels_vi_locale_writes_them():
    from babel.numbers import format_decimal

    rng = random.Random(859)
    for _ in range(300):
        integer = rng.randint(-(10**12), 10**12)
        assert format_number(integer) == format_decimal(integer, locale="vi")
        value = Decimal(rng.randint(-(10**9), 10**9)).scaleb(-3)
        assert format_number(value) == format_decimal(value, locale="vi")
    assert format_number(1234) == "1.234"  # CLDR vi groups four digits too


def test_long_numbers_are_written_out_exactly_where_babel_would_round():
    assert format_number(10**40) == "10" + ".000" * 13
    assert format_number(Decimal("12345678901234567890.123456789")) == (
        "12.345.678.901.234.567.890,123456789"
    )
    assert format_number(Decimal("-1E+30")) == "-1" + ".000" * 10
    assert len(format_number(1e300)) == 1 + 300 + 100


@pytest.mark.parametrize("text", ["1e5", "1E5", ",5", "5,", "1_000", "NaN", "Infinity", "١٢٣"])
def test_parse_number_refuses_what_babel_alone_would_read(text):
    with pytest.raises(ValueError, match="dấu chấm"):
        parse_number(text)
