"""Reading, checking and showing the figures of the indicator table.

A figure is kept as the division wrote it; what the table shows (and the computed columns) is
derived from that text and the definition each time, so a change of format never needs a
migration of stored values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from reportflow.core.safe_yaml import YamlLimits
from reportflow.core.vi_format import (
    format_number,
    format_percent,
    parse_number,
    percent_number,
)
from reportflow.definitions.schema import IndicatorSpec, PercentSign

MAX_FIGURE_DIGITS = 15
"""Digits a figure is written with (before and after the comma): the stored float keeps 15
exactly, and every figure below 10^15 fits."""
MAX_FIGURE_CODES = 500
"""Indicators in one figures file."""
FIGURES_FILE_LIMITS = YamlLimits(
    max_bytes=100_000, max_nodes=5_000, max_scalar_chars=2_000, max_depth=8, allow_aliases=False
)
"""A figures file: a short map of "code: value" or "code: {value, note}"."""

_RATIO_RE = re.compile(r"^\s*([\d.,]+)\s*/\s*([\d.,]+)\s*(.*)$")
_LEADING_NUMBER_RE = re.compile(r"^\s*([+\-\u2212]?[\d.,]+)\s*(.*)$")


class IndicatorValueError(ValueError):
    """A figure that does not fit its indicator; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class IndicatorReading:
    """One submitted figure, understood against its indicator."""

    text: str
    number: Decimal | None = None
    """The figure compared with the plan and the range: the percent of a ratio whose unit is
    "%", the count (numerator) of other ratios, the value itself for numbers and percents."""
    ratio: tuple[int, int] | None = None

    @property
    def ratio_percent(self) -> Decimal | None:
        if self.ratio is None:
            return None
        numerator, denominator = self.ratio
        return Decimal(numerator) * 100 / Decimal(denominator)


def _unit_forms(unit: str) -> set[str]:
    unit = unit.strip().lower()
    return {unit, unit.split("/")[0].strip()} - {""}


def _check_unit(spec: IndicatorSpec, suffix: str) -> None:
    suffix = suffix.strip().rstrip(".;").strip()
    if not suffix:
        return
    if suffix.lower() not in _unit_forms(spec.unit):
        raise IndicatorValueError(
            f"đơn vị '{suffix}' không khớp với đơn vị tính của chỉ tiêu là '{spec.unit}'"
        )


def _shown(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _written_digits(value: Decimal) -> int:
    """Digits needed to write ``value`` out: 547,50 has 5, 1E+20 has 21, 0,001 has 4."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: parse_number and the callers make sure
    return max(1, value.adjusted() + 1) + max(0, -exponent)


def _check_size(text: str, value: Decimal) -> Decimal:
    """Refuses a figure too long to be kept exactly, and formatted, as a number."""
    digits = _written_digits(value)
    if digits > MAX_FIGURE_DIGITS:
        raise IndicatorValueError(
            f"'{_shown(text)}' có {format_number(digits)} chữ số, quá dài để là một số liệu "
            f"(tối đa {MAX_FIGURE_DIGITS} chữ số)"
        )
    return value


def _yaml_number(raw: int | float) -> tuple[str, Decimal]:
    """A number YAML gave (547.5, 1e300, 10**30) as text to show and as a Decimal; no str()
    of a huge int, which Python refuses beyond 4,300 digits."""
    value = Decimal(int(raw)) if isinstance(raw, int) or raw.is_integer() else Decimal(str(raw))
    shown = str(raw) if abs(value.adjusted()) < 100 else f"{value:.3E}"
    return shown, value


def _parse_plain_number(text: str) -> Decimal:
    try:
        value = parse_number(text)
    except ValueError:
        raise IndicatorValueError(
            f"'{_shown(text)}' không phải là số (viết theo kiểu Việt Nam, ví dụ 547,5 hoặc 1.626)"
        ) from None
    return _check_size(text, value)


def _parse_count(text: str) -> int:
    value = _parse_plain_number(text)
    if value != value.to_integral_value() or value < 0:
        raise IndicatorValueError(f"'{text}' phải là số nguyên không âm")
    return int(value)


def _read_number(spec: IndicatorSpec, text: str) -> IndicatorReading:
    match = _LEADING_NUMBER_RE.match(text)
    if not match:
        raise IndicatorValueError(
            f"'{text}' không phải là số (viết theo kiểu Việt Nam, ví dụ 547,5 hoặc 1.626)"
        )
    figure, suffix = match.groups()
    if spec.kind == "percent":
        suffix = suffix.strip()
        suffix = suffix[1:] if suffix.startswith("%") else suffix
    _check_unit(spec, suffix)
    return IndicatorReading(text=text, number=_parse_plain_number(figure))


def _read_ratio(spec: IndicatorSpec, text: str) -> IndicatorReading:
    match = _RATIO_RE.match(text)
    if not match:
        raise IndicatorValueError(f"'{text}' phải là một tỷ số dạng 'đạt/tổng', ví dụ 82/85")
    numerator_text, denominator_text, suffix = match.groups()
    numerator, denominator = _parse_count(numerator_text), _parse_count(denominator_text)
    if denominator == 0:
        raise IndicatorValueError(f"'{text}': số tổng (sau dấu /) phải lớn hơn 0")
    if numerator > denominator:
        raise IndicatorValueError(
            f"'{text}': số đạt ({numerator}) không thể lớn hơn số tổng ({denominator})"
        )
    if spec.unit.strip() != "%":
        _check_unit(spec, suffix)
    elif suffix.strip():
        raise IndicatorValueError(
            f"'{text}': chỉ ghi tỷ số, ví dụ 82/85; tỷ lệ % được tính tự động, "
            "phần giải thích ghi vào 'note'"
        )
    reading = IndicatorReading(text=text, ratio=(numerator, denominator))
    number = reading.ratio_percent if spec.unit.strip() == "%" else Decimal(numerator)
    return IndicatorReading(text=text, number=number, ratio=reading.ratio)


def _check_range(spec: IndicatorSpec, reading: IndicatorReading) -> None:
    if reading.number is None:
        return
    shown = format_number(reading.number, 2 if reading.ratio and spec.unit == "%" else None)
    if spec.min is not None and reading.number < Decimal(str(spec.min)):
        raise IndicatorValueError(
            f"'{reading.text}' ({shown}) nhỏ hơn mức tối thiểu {format_number(spec.min)}"
        )
    if spec.max is not None and reading.number > Decimal(str(spec.max)):
        raise IndicatorValueError(
            f"'{reading.text}' ({shown}) lớn hơn mức tối đa {format_number(spec.max)}"
        )


def read_indicator(spec: IndicatorSpec, raw: object) -> IndicatorReading:
    """Understand one submitted figure, or raise IndicatorValueError saying what is wrong."""
    if isinstance(raw, bool) or raw is None:
        raise IndicatorValueError("thiếu giá trị")
    if isinstance(raw, list | dict):
        raise IndicatorValueError("phải là một giá trị (số hoặc chữ), không phải một danh sách")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise IndicatorValueError(f"'{raw}' không phải là số")
    if isinstance(raw, int | float):
        raw = format_number(_check_size(*_yaml_number(raw)))
    text = str(raw).strip()
    if not text:
        raise IndicatorValueError("thiếu giá trị")
    if spec.kind == "text":
        return IndicatorReading(text=text)
    reading = _read_ratio(spec, text) if spec.kind == "ratio" else _read_number(spec, text)
    _check_range(spec, reading)
    return reading


def result_cell(
    spec: IndicatorSpec, reading: IndicatorReading, note: str = "", *, percent_sign: PercentSign
) -> str:
    """What the result column shows, in Vietnamese formats: "228", "1.626", "96,47", "82/85";
    `percent_sign` (the table's) says which percents carry "%"."""
    if spec.kind == "text":
        shown = reading.text
    elif reading.ratio is not None:
        numerator, denominator = reading.ratio
        if spec.unit.strip() != "%":
            shown = f"{numerator}/{denominator}"
        elif percent_sign == "none":
            shown = percent_number(reading.ratio_percent, 2)
        else:
            shown = format_percent(reading.ratio_percent, 2)
    else:
        shown = format_number(reading.number)
        if spec.kind == "percent" and percent_sign == "all":
            shown += "%"
    return f"{shown} ({note})" if note else shown


def plan_number(spec: IndicatorSpec) -> Decimal | None:
    try:
        return parse_number(spec.plan.removesuffix("%").strip())
    except ValueError:
        return None


def rate_against_plan(spec: IndicatorSpec, reading: IndicatorReading | None) -> str:
    """The result as a share of the year plan, "97,62%"; empty where it has no meaning."""
    plan = plan_number(spec)
    if reading is None or reading.number is None or not plan:
        return ""
    return format_percent(reading.number * 100 / plan, 2)
