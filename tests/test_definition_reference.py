"""docs/definitions.md is generated from the schema and real files; a stale copy fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reportflow.definitions.loader import load_organisation, parse_definition
from reportflow.definitions.reference import (
    CHECKOUT,
    EXAMPLES,
    REFERENCE_FILE,
    UPWARD,
    models_in_order,
    render_reference,
    yaml_block,
)
from reportflow.definitions.schema import (
    DefinitionError,
    OrganisationSpec,
    OutlineItem,
    ReportDefinition,
)


def test_the_committed_reference_is_the_generated_one():
    committed = REFERENCE_FILE.read_text(encoding="utf-8") if REFERENCE_FILE.is_file() else ""
    assert committed == render_reference(), "docs/definitions.md is stale: run `make docs`"


def test_every_field_of_every_model_is_listed_with_its_description():
    text = render_reference()
    models = models_in_order()
    assert {ReportDefinition, OrganisationSpec} <= set(models)
    for model in models:
        assert f"### {model.__name__}\n" in text
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no docstring"
            assert f"| `{name}` |" in text
            assert " ".join(field.description.split()).replace("|", "\\|") in text
    assert '| `archive_line` | text | no | `"Lưu: VT."` |' in text
    assert "| `internal_deadline_working_days_before` | integer, ≥ 0 | no | `3` |" in text
    assert "| `signer` | [SignerSpec](#signerspec) | yes |  |" in text


def test_each_example_is_cut_from_its_file_and_is_a_valid_part_of_it():
    organisation = load_organisation([CHECKOUT / "reportflow" / "samples"])
    for _, relative, keys in EXAMPLES:
        path = CHECKOUT / relative
        block = yaml.safe_load(yaml_block(path, keys))
        whole = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert block == {key: whole[key] for key in keys}
    upward = yaml_block(CHECKOUT / UPWARD, ("signer",))
    assert upward.startswith("signer: {authority: KT., on_behalf_of: GIÁM ĐỐC")
    sample = yaml.safe_load((CHECKOUT / EXAMPLES[0][1]).read_text(encoding="utf-8"))
    parse_definition(sample, "ktxh-6-thang.yaml", organisation)


def test_a_key_missing_from_an_example_file_stops_the_generator(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text("code: x\n# a comment\nsigner:\n  title: A\n\n  person: b\nname: y\n")
    assert yaml_block(path, ("signer",)) == "signer:\n  title: A\n\n  person: b"
    with pytest.raises(ValueError, match="no top-level key 'addressee'"):
        yaml_block(path, ("addressee",))


def test_an_unknown_field_deep_in_the_outline_lists_the_fields_allowed_there():
    data = yaml.safe_load((CHECKOUT / EXAMPLES[0][1]).read_text(encoding="utf-8"))
    data["outline"][0]["children"][1]["children"][0]["onwer"] = "ttbcxb"
    with pytest.raises(DefinitionError) as refused:
        parse_definition(data, "x.yaml", load_organisation([CHECKOUT / "reportflow" / "samples"]))
    assert refused.value.problems == [
        "outline.0.children.1.children.0.onwer: trường không có trong mẫu định nghĩa "
        "(có phải 'owner'?). Các trường được dùng: " + ", ".join(sorted(OutlineItem.model_fields))
    ]
