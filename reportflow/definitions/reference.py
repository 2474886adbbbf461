"""Writes docs/definitions.md, the reference of every definition field, from the schema itself.

Each field's type, default and description come from the pydantic models (descriptions are the
attribute docstrings); the worked examples are cut from real definition files, so neither can
drift from what the loader accepts. `make docs` regenerates it; a test fails when it is stale.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from reportflow.core.config import PACKAGE_DIR
from reportflow.definitions.schema import OrganisationSpec, ReportDefinition

CHECKOUT = PACKAGE_DIR.parent
REFERENCE_FILE = CHECKOUT / "docs" / "definitions.md"
ROOTS: tuple[type[BaseModel], ...] = (ReportDefinition, OrganisationSpec)

SAMPLE = "reportflow/samples/ktxh-6-thang.yaml"
UPWARD = "tests/definitions/soc-trang/chuyen-doi-so-nam.yaml"
APPENDICES = "tests/definitions/ben-tre/tai-nguyen-nuoc-6-thang.yaml"
ORGANISATION = "reportflow/samples/organisation.yaml"
EXAMPLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "The report, its number and its texts",
        SAMPLE,
        (
            "code",
            "name",
            "doc_type",
            "doc_type_name",
            "number_pattern",
            "summary",
            "period_label",
            "period_kind",
            "intro",
            "closing",
            "internal_deadline_working_days_before",
        ),
    ),
    (
        "The outline: numbered headings, sections with their owner, markers, the table's place",
        SAMPLE,
        ("outline",),
    ),
    ("The numbering scheme of the sample (1.1. at the third level)", SAMPLE, ("numbering",)),
    (
        "The default scheme (I., 1., a), -): a third level lettered without typing a marker",
        UPWARD,
        ("outline",),
    ),
    ("The indicator table", SAMPLE, ("indicators",)),
    (
        "Two appendices after the signature, one holding the indicator table",
        APPENDICES,
        ("numbering", "outline", "appendices"),
    ),
    ("A TL. signer (the chief of office for the director)", APPENDICES, ("signer",)),
    ("The director signs in his own name", SAMPLE, ("signer",)),
    (
        "A deputy signs for the director (KT. GIÁM ĐỐC over PHÓ GIÁM ĐỐC); the director may approve too",
        UPWARD,
        ("signer", "approvers"),
    ),
    ("Recipients; the requester's mail quotes the request", SAMPLE, ("recipients", "archive_line")),
    (
        'Sent upward: addressees on the "Kính gửi:" line, one "- Như trên;" under "Nơi nhận:"',
        UPWARD,
        ("recipients",),
    ),
    (
        "organisation.yaml: the letterhead, the divisions, the people",
        ORGANISATION,
        ("parent_body", "issuing_body", "issuing_body_name", "place", "divisions", "people"),
    ),
)

_SCALARS = {str: "text", int: "integer", float: "number", bool: "true/false", Any: "any"}


def nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for argument in get_args(annotation):
        yield from nested_models(argument)


def models_in_order(roots: tuple[type[BaseModel], ...] = ROOTS) -> list[type[BaseModel]]:
    """Every model reachable from the roots, each once, in the order a reader meets them."""
    found: list[type[BaseModel]] = []
    for root in roots:
        queue = [root]
        while queue:
            model = queue.pop(0)
            if model in found:
                continue
            found.append(model)
            for field in model.model_fields.values():
                queue.extend(m for m in nested_models(field.annotation) if m not in found)
    return found


def type_text(annotation: Any) -> str:
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if annotation is dt.time:
        return 'time "HH:MM"'
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(
            f"`{json.dumps(v, ensure_ascii=False)}`" for v in get_args(annotation)
        )
    if origin in (Union, types.UnionType):
        return " or ".join(type_text(a) for a in get_args(annotation))
    if origin is list:
        return f"list of {type_text(get_args(annotation)[0])}"
    if origin is dict:
        return "mapping"
    return _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def constraints_text(field: FieldInfo) -> str:
    bounds = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    return "".join(
        f", {sign} {getattr(item, name)}"
        for item in field.metadata
        for name, sign in bounds.items()
        if getattr(item, name, None) is not None
    )


def default_text(field: FieldInfo) -> str:
    if field.is_required():
        return ""
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "its defaults"
    if isinstance(value, dt.time):
        return f'`"{value:%H:%M}"`'
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _summary(model: type[BaseModel]) -> str:
    doc = inspect.cleandoc(model.__dict__.get("__doc__") or "")
    return " ".join(doc.split("\n\n")[0].split())


def model_section(model: type[BaseModel], used_in: list[str]) -> list[str]:
    lines = [f"### {model.__name__}", ""]
    if summary := _summary(model):
        lines += [summary, ""]
    if used_in:
        lines += ["Used in: " + ", ".join(used_in) + ".", ""]
    lines += ["| field | type | required | default | description |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        lines.append(
            f"| `{name}` | {_cell(type_text(field.annotation) + constraints_text(field))} "
            f"| {'yes' if field.is_required() else 'no'} | {_cell(default_text(field))} "
            f"| {_cell(field.description or '')} |"
        )
    return [*lines, ""]


def yaml_block(path: Path, keys: tuple[str, ...]) -> str:
    """The lines of the named top-level keys, as written in the file (comments included)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    for key in keys:
        start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
        if start is None:
            raise ValueError(f"{path}: no top-level key '{key}'")
        end = start + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
            end += 1
        blocks.append("\n".join(lines[start:end]).rstrip())
    return "\n".join(blocks)


def render_reference() -> str:
    models = models_in_order()
    used_in: dict[type[BaseModel], list[str]] = {m: [] for m in models}
    for model in models:
        for name, field in model.model_fields.items():
            for inner in dict.fromkeys(nested_models(field.annotation)):
                used_in[inner].append(f"`{model.__name__}.{name}`")
    lines = [
        "# Report definitions: every field",
        "",
        "<!-- Generated by `make docs` (python -m reportflow.definitions.reference) from",
        "     reportflow/definitions/schema.py and the files quoted below; do not edit by hand. -->",
        "",
        "A report definition is one YAML file, `CODE.yaml`, in a folder named by",
        "`REPORTFLOW_DEFINITIONS_DIRS`; the agency's divisions and people are in",
        "`organisation.yaml` in the same folder. Both are checked when loaded: a field not listed",
        "here is refused with the fields allowed at that place and the nearest one to what was",
        "written. A text whose description says it may use `{{ year }}` is a template; its",
        "placeholders are filled when the cycle's document is made.",
        "",
        "## Fields",
        "",
    ]
    for model in models:
        lines += model_section(model, used_in[model])
    lines += [
        "## Worked examples",
        "",
        "Cut from real files (the sample report and a test report of another province) each time",
        "this page is generated.",
        "",
    ]
    for title, relative, keys in EXAMPLES:
        lines += [
            f"### {title}",
            "",
            f"From `{relative}`:",
            "",
            "```yaml",
            yaml_block(CHECKOUT / relative, keys),
            "```",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    REFERENCE_FILE.parent.mkdir(exist_ok=True)
    REFERENCE_FILE.write_text(render_reference(), encoding="utf-8")
    print(f"wrote {REFERENCE_FILE.relative_to(CHECKOUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
