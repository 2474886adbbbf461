"""Finds and loads report definitions and the organisation file from the definitions folders."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from reportflow.core.config import SAMPLES_DIR, get_settings
from reportflow.core.safe_yaml import YamlLimits, YamlRefused, load_yaml_file
from reportflow.definitions.schema import DefinitionError, OrganisationSpec, ReportDefinition

ORGANISATION_FILE = "organisation.yaml"
_ENV_REF = re.compile(r"\$\{(REPORTFLOW_APPRISE_[A-Z0-9_]+)\}")
# Written by IT staff, so aliases are allowed, but counted as what they expand to.
DEFINITION_FILE_LIMITS = YamlLimits(
    max_bytes=1_000_000,
    max_nodes=100_000,
    max_scalar_chars=50_000,
    max_depth=32,
    allow_aliases=True,
)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = load_yaml_file(path, DEFINITION_FILE_LIMITS)
    except YamlRefused as exc:
        raise DefinitionError(path.name, [str(exc)]) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(path.name, [f"YAML không đọc được: {exc}"]) from exc
    if not isinstance(data, dict):
        raise DefinitionError(path.name, ["tệp phải chứa một bảng khóa: giá trị"])
    return data


_PYDANTIC_VI = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không có trong mẫu định nghĩa (viết sai tên?)",
    "string_type": "phải là chuỗi chữ",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "float_type": "phải là số",
    "float_parsing": "phải là số",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "list_type": "phải là một danh sách",
    "dict_type": "phải là một bảng khóa: giá trị",
    "model_type": "phải là một bảng khóa: giá trị",
    "literal_error": "giá trị không hợp lệ",
    "greater_than_equal": "giá trị quá nhỏ",
}


def _model_at(root: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    """The model a validation error's location points into, following fields, list items and
    optional values."""
    model: Any = root
    for step in path:
        if isinstance(step, int):
            continue
        field = model.model_fields.get(step) if isinstance(model, type) else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _inner_model(argument)
        if found is not None:
            return found
    return None


def _unknown_field(root: type[BaseModel], loc: tuple) -> str:
    """Names the allowed fields, and the nearest one when the name looks mistyped."""
    model = _model_at(root, loc[:-1])
    if model is None:
        return _PYDANTIC_VI["extra_forbidden"]
    allowed = sorted(model.model_fields)
    nearest = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f" (có phải '{nearest[0]}'?)" if nearest else ""
    return f"trường không có trong mẫu định nghĩa{hint}. Các trường được dùng: {', '.join(allowed)}"


def _validation_problems(exc: ValidationError, root: type[BaseModel]) -> list[str]:
    """Each problem as "where: what" in Vietnamese; our own validators already speak it."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(gốc)"
        if error["type"] == "extra_forbidden":
            what = _unknown_field(root, tuple(error["loc"]))
        elif error["type"] == "value_error":
            what = str(error["msg"]).removeprefix("Value error, ")
        elif error["type"] == "literal_error":
            allowed = error.get("ctx", {}).get("expected", "")
            what = f"giá trị không hợp lệ; chọn một trong: {allowed.replace(' or ', ' hoặc ')}"
        else:
            what = _PYDANTIC_VI.get(error["type"], error["msg"])
        problems.append(f"{where}: {what}")
    return problems


def organisation_file(dirs: list[Path] | None = None) -> Path | None:
    """The last organisation.yaml found wins, so a later folder overrides an earlier one."""
    dirs = dirs if dirs is not None else get_settings().all_definitions_dirs
    found = [d / ORGANISATION_FILE for d in dirs if (d / ORGANISATION_FILE).is_file()]
    return found[-1] if found else None


def is_sample(path: Path) -> bool:
    return path.parent.resolve() == SAMPLES_DIR


def load_organisation(dirs: list[Path] | None = None) -> OrganisationSpec:
    found = organisation_file(dirs)
    if found is None:
        raise DefinitionError(
            ORGANISATION_FILE,
            [
                "không tìm thấy tệp tổ chức organisation.yaml trong các thư mục định nghĩa "
                "(REPORTFLOW_DEFINITIONS_DIRS)"
            ],
        )
    stat = found.stat()
    return _parse_organisation(found.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _parse_organisation(path: Path, mtime_ns: int, size: int) -> OrganisationSpec:
    """Read once per version of the file (its time and size): a cycle's run asks for it in
    several steps, and at 1,000 divisions one read costs a tenth of a second. Nothing changes a
    parsed organisation; an edited file is read again."""
    try:
        return OrganisationSpec.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise DefinitionError(
            ORGANISATION_FILE, _validation_problems(exc, OrganisationSpec)
        ) from exc


def parse_definition(
    data: dict[str, Any], source: str, organisation: OrganisationSpec
) -> ReportDefinition:
    try:
        definition = ReportDefinition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(source, _validation_problems(exc, ReportDefinition)) from exc
    definition.check_against(organisation)
    return definition


def definition_files(dirs: list[Path] | None = None) -> dict[str, Path]:
    dirs = dirs if dirs is not None else get_settings().all_definitions_dirs
    files: dict[str, Path] = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.yaml")):
            if path.name != ORGANISATION_FILE:
                files[path.stem] = path
    return files


def load_definition(code: str, dirs: list[Path] | None = None) -> ReportDefinition:
    files = definition_files(dirs)
    if code not in files:
        known = ", ".join(sorted(files)) or "(không có)"
        raise DefinitionError(code, [f"không có định nghĩa này; các định nghĩa hiện có: {known}"])
    return parse_definition(_read_yaml(files[code]), files[code].name, load_organisation(dirs))


def definition_digest(definition: ReportDefinition) -> str:
    payload = json.dumps(definition.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def expand_env(url: str) -> str:
    return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), ""), url)
