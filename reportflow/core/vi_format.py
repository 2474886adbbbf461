"""Vietnamese (CLDR ``vi``, through Babel) number and date formats.

Thousands are grouped with "." and decimals follow ",": ``74.019``, ``547,5``, ``96,47%``.
Babel's ``vi`` locale gives the symbols and the grouping (four-digit numbers are grouped too:
``1.234``); the product keeps its own rules where Babel differs: rounding is half up (Babel's
default is half even), a number is written out exactly whatever its length (Babel rounds to the
decimal context's 28 digits), and reading accepts only the plain form ``[-]1.234,5`` (Babel also
reads ``1e5``, ``,5``, ``5,``, ``1_000``, ``NaN``).
Dates follow Decree 30/2020: in the place-and-date line the day below 10 and the months
1 and 2 get a leading zero ("ngày 05 tháng 01 năm 2021"), other months do not ("tháng 6").
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import cache

from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)

Number = int | float | Decimal

LOCALE = "vi"


@cache
def _number_form() -> re.Pattern[str]:
    """The plain written form of a number; built at first use, as Babel's locale data takes a
    tenth of a second to load (every flow run imports this module, not every one formats)."""
    thousands, decimal = get_group_symbol(LOCALE), get_decimal_symbol(LOCALE)
    return re.compile(
        rf"[+-]?(?:[0-9]{{1,3}}(?:{re.escape(thousands)}[0-9]{{3}})+|[0-9]+)"
        rf"(?:{re.escape(decimal)}[0-9]+)?"
    )


_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})
_BLANK = "\u2026"  # "…", the blank a draft leaves for the signing date


def _to_decimal(value: Number) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("format_number expects a number, not a bool")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        # str() gives the shortest repr, so 547.5 stays 547.5 and not 547.499999...
        result = Decimal(str(value))
    else:
        raise TypeError(f"format_number expects a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"cannot format {value!r} as a Vietnamese number")
    return result


def format_number(value: Number, decimals: int | None = None) -> str:
    """``74019 -> "74.019"``, ``547.5 -> "547,5"``; ``decimals`` fixes the count of decimals.

    Without ``decimals`` the value is written with exactly the decimals it carries
    (trailing zeros removed), so integers have none.
    """
    number = _to_decimal(value)
    if decimals is not None and decimals < 0:
        raise ValueError("decimals must be >= 0")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    with localcontext() as context:
        # Enough digits to write the number out exactly, however long (Babel quantizes to the
        # pattern's three decimals on the way).
        context.prec = max(28, len(number.as_tuple().digits) + abs(exponent) + (decimals or 0) + 8)
        context.rounding = ROUND_HALF_UP
        if decimals is None:
            if number == number.to_integral_value():
                number = number.quantize(Decimal(1))
            else:
                number = number.normalize()
            pattern, quantize = "#,##0.###", False
        else:
            number = number.quantize(Decimal(1).scaleb(-decimals))
            pattern, quantize = "#,##0" + ("." + "0" * decimals if decimals else ""), True
        if number == 0:
            number = abs(number)  # no "-0"
        return format_decimal(number, pattern, locale=LOCALE, decimal_quantization=quantize)


def format_percent(value: Number, decimals: int = 2) -> str:
    """A value already in percent: ``96.47 -> "96,47%"``, ``73.8 -> "73,8%"``, ``100 -> "100%"``.

    Rounded to at most ``decimals`` places; trailing zeros are dropped. The sign follows the
    number with no space, as CLDR ``vi`` writes percents (``#,##0%``).
    """
    return percent_number(value, decimals) + "%"


def percent_number(value: Number, decimals: int = 2) -> str:
    """``format_percent`` without the sign, for a column whose unit already says %: "96,47"."""
    number = _to_decimal(value)
    number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return format_number(number.normalize() if number else Decimal(0))


def parse_number(text: str) -> Decimal:
    """Read a number written the Vietnamese way: ``"74.019" -> 74019``, ``"547,5" -> 547.5``."""
    if not isinstance(text, str):
        raise TypeError(f"parse_number expects a string, got {type(text).__name__}")
    candidate = text.strip().replace("\u00a0", "").translate(_MINUS_SIGNS)
    refusal = ValueError(
        f"Không đọc được số {text!r}: số phải viết theo kiểu Việt Nam, dấu chấm "
        "phân cách hàng nghìn và dấu phẩy trước phần thập phân, ví dụ 74.019 hoặc 547,5."
    )
    if not _number_form().fullmatch(candidate):
        raise refusal
    digits = sum(c.isdigit() for c in candidate)
    try:
        # Babel's strict check formats the number again with 3 decimals: exact at any length.
        with localcontext() as context:
            context.prec = max(context.prec, digits + 4)
            return parse_decimal(candidate, locale=LOCALE, strict=True)
    except NumberFormatError:  # pragma: no cover - the pattern already guarantees it
        raise refusal from None


_NUMERIC_SUFFIXES = ("%", " đồng", "đồng", "đ")


def is_numeric_text(text: str) -> bool:
    """True for a table cell holding one number, possibly a percent or an amount in đồng."""
    candidate = text.strip()
    for suffix in _NUMERIC_SUFFIXES:
        if candidate.endswith(suffix):
            candidate = candidate[: -len(suffix)].rstrip()
            break
    if not candidate:
        return False
    try:
        parse_number(candidate)
    except ValueError:
        return False
    return True


def day_text(day: int) -> str:
    """The day as Decree 30 writes it: two digits ("05")."""
    return f"{day:02d}"


def month_text(month: int) -> str:
    """The month as Decree 30 writes it: two digits for January and February ("01"), one
    otherwise ("6")."""
    return f"{month:02d}" if month <= 2 else str(month)


def long_date(date: dt.date) -> str:
    """``"ngày 05 tháng 6 năm 2020"``."""
    return f"ngày {day_text(date.day)} tháng {month_text(date.month)} năm {date.year}"


def short_date(date: dt.date) -> str:
    """``"05/6/2020"``, ``"16/01/2020"``: day on two digits, months 1 and 2 padded."""
    return f"{day_text(date.day)}/{month_text(date.month)}/{date.year}"


def blank_long_date() -> str:
    """The date of a draft that is not signed yet: ``"ngày … tháng … năm …"``."""
    return f"ngày {_BLANK} tháng {_BLANK} năm {_BLANK}"


SIGNING_BLANK = " " * 5
"""The day's and the month's blank on the copy that is signed before it is numbered: spaces,
which the filled-in date covers (a "…" would show through it)."""


def place_date_line(place: str, date: dt.date | None, signing_year: int | None = None) -> str:
    """``"Trà Vinh, ngày 05 tháng 6 năm 2020"``; with no date, the blanks of a draft, or with
    ``signing_year`` those of the copy signed before its number: "ngày      tháng      năm 2020"."""
    if date is not None:
        when = long_date(date)
    elif signing_year is not None:
        when = f"ngày {SIGNING_BLANK} tháng {SIGNING_BLANK} năm {signing_year}"
    else:
        when = blank_long_date()
    place = place.strip()
    return f"{place}, {when}" if place else when[0].upper() + when[1:]


DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def parse_date(text: str) -> dt.date | None:
    """A date written the Vietnamese way (13/05/2020, 9/6/2020) or as ISO 8601; None if not."""
    value = text.strip()
    if len(value) > 10:
        return None
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    return None
