"""Report definitions are data: a second one is added with no code change."""

from __future__ import annotations

import pytest

from reportflow.cycle.cycles import assignments
from reportflow.definitions.loader import load_definition
from reportflow.models import session_scope
from tests.factories import SAMPLE_OCR_ERRORS, SAMPLE_TEXT, open_sample_cycle, use_definitions

SECOND = """
code: bao-cao-quy-cntt
name: Báo cáo quý về ứng dụng công nghệ thông tin
number_pattern: "{number}/BC-STTTT-CNTT"
summary: Tình hình ứng dụng công nghệ thông tin quý {{ year }}
signer: {title: GIÁM ĐỐC, person: giamdoc}
outline:
  - title: KẾT QUẢ
    children:
      - {key: ha-tang, owner: cntt, title: Hạ tầng kỹ thuật}
      - {key: cong-dvc, owner: ttcntt, title: Cổng dịch vụ công}
  - {key: kien-nghi, owner: vp, title: KIẾN NGHỊ}
recipients:
  - {key: ubnd, label: UBND tỉnh (b/c), email: ubnd@travinh.example, requester: true}
"""


def test_sample_definition_lists_every_heading_of_the_sample_in_order():
    definition = load_definition("ktxh-6-thang")
    seed = SAMPLE_TEXT.read_text(encoding="utf-8")
    for wrong, right in SAMPLE_OCR_ERRORS.items():
        seed = seed.replace(wrong, right)
    titles = [item.title.replace("{{ year }}", "2020") for item in definition.walk()]
    positions = [seed.find(" ".join(t.rstrip(":").split())) for t in titles]
    assert all(p >= 0 for p in positions), [
        t for t, p in zip(titles, positions, strict=True) if p < 0
    ]
    assert positions == sorted(positions)
    assert len(titles) == len(set(positions))


def test_second_definition_needs_no_code_change(database, tmp_path):
    folder = tmp_path / "agency-definitions"
    folder.mkdir()
    (folder / "bao-cao-quy-cntt.yaml").write_text(SECOND, encoding="utf-8")
    use_definitions(folder)
    cycle_id = open_sample_cycle("bao-cao-quy-cntt")
    with session_scope() as session:
        rows = assignments(session, cycle_id)
    assert [(a.section_key, a.division_code) for a in rows] == [
        ("ha-tang", "cntt"),
        ("cong-dvc", "ttcntt"),
        ("kien-nghi", "vp"),
    ]


def test_a_broken_definition_is_explained_in_vietnamese(database):
    from reportflow.definitions.loader import load_organisation, parse_definition
    from reportflow.definitions.schema import DefinitionError

    broken = {
        "code": "x",
        "name": "Báo cáo thử",
        "summry": "viết sai tên trường",
        "number_pattern": "{number}/BC-STTTT-VP",
        "period_kind": "weekly",
        "signer": {"title": "GIÁM ĐỐC", "person": "giamdoc"},
        "outline": [{"key": "mot", "owner": "vp", "title": "Phần một"}],
        "recipients": [],
    }
    with pytest.raises(DefinitionError) as error:
        parse_definition(broken, "x.yaml", load_organisation())
    problems = error.value.problems
    assert "summary: thiếu trường bắt buộc" in problems
    (unknown,) = [p for p in problems if p.startswith("summry:")]
    assert unknown.startswith(
        "summry: trường không có trong mẫu định nghĩa (có phải 'summary'?). Các trường được dùng: "
    )
    assert any(
        p.startswith("period_kind: giá trị không hợp lệ; chọn một trong: 'monthly'")
        and p.endswith("hoặc 'ad_hoc'")
        for p in problems
    )
    assert not any("Field required" in p or "Extra inputs" in p for p in problems)


def test_the_readme_example_definition_loads(tmp_path, restore_environment):
    import re

    from reportflow.core.config import PACKAGE_DIR

    readme = (PACKAGE_DIR.parent / "README.md").read_text(encoding="utf-8")
    example = re.search(r"A minimal definition:\n\n```yaml\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "bao-cao-quy-cntt.yaml").write_text(example, encoding="utf-8")
    use_definitions(tmp_path)
    definition = load_definition("bao-cao-quy-cntt")
    assert (definition.period_kind, [s.key for s in definition.sections()]) == (
        "quarterly",
        ["ha-tang", "cong-dvc", "kien-nghi"],
    )


def test_an_unknown_field_names_the_allowed_ones_and_the_nearest_match():
    from reportflow.definitions.loader import (
        _read_yaml,
        definition_files,
        load_organisation,
        parse_definition,
    )
    from reportflow.definitions.schema import DefinitionError

    data = _read_yaml(definition_files()["ktxh-6-thang"])
    data["signer"]["titel"] = "GIÁM ĐỐC"
    data["recipients"][0]["emial"] = "thktkg@skhdt.travinh.example"
    with pytest.raises(DefinitionError) as refused:
        parse_definition(data, "bao-cao.yaml", load_organisation())
    assert refused.value.problems == [
        "signer.titel: trường không có trong mẫu định nghĩa (có phải 'title'?). "
        "Các trường được dùng: authority, on_behalf_of, person, title",
        "recipients.0.emial: trường không có trong mẫu định nghĩa (có phải 'email'?). "
        "Các trường được dùng: addressee, addressee_label, apprise, email, key, label, requester",
    ]


def _sample_with(**changes) -> dict:
    from reportflow.definitions.loader import _read_yaml, definition_files

    data = _read_yaml(definition_files()["ktxh-6-thang"])
    return {**data, **changes}


def test_appendix_sections_are_sections_like_the_body_ones():
    from reportflow.definitions.loader import load_organisation, parse_definition

    data = _sample_with(
        appendices=[
            {"title": "Số liệu {{ year }}", "indicators": False},
            {
                "title": "Danh mục dự án",
                "outline": [{"key": "du-an", "owner": "vp", "title": "Dự án chuyển tiếp"}],
            },
        ]
    )
    definition = parse_definition(data, "bao-cao.yaml", load_organisation())
    keys = [s.key for s in definition.sections()]
    assert keys[-1] == "du-an" and definition.section("du-an").owner == "vp"
    assert len(keys) == len(definition.sections()) == len(set(keys))


@pytest.mark.parametrize(
    ("appendix", "problem"),
    [
        (
            {"title": "Chỉ tiêu", "indicators": True},
            "bảng chỉ tiêu chỉ được đặt ở một chỗ, nhưng được khai báo ở 2 chỗ: mục "
            "'KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU KẾ HOẠCH PHÁT TRIỂN XÃ HỘI 6 THÁNG ĐẦU NĂM THUỘC "
            "NGÀNH THÔNG TIN VÀ TRUYỀN THÔNG', phụ lục 'Chỉ tiêu'",
        ),
        (
            {"title": "Trùng", "outline": [{"key": "tham-muu", "owner": "vp", "title": "X"}]},
            "khóa mục bị trùng: tham-muu",
        ),
    ],
    ids=["indicator-table-twice", "key-shared-with-the-body"],
)
def test_an_appendix_is_refused_when_it_clashes_with_the_body(appendix, problem):
    from reportflow.definitions.loader import load_organisation, parse_definition
    from reportflow.definitions.schema import DefinitionError

    with pytest.raises(DefinitionError) as refused:
        parse_definition(_sample_with(appendices=[appendix]), "x.yaml", load_organisation())
    assert any(problem in p for p in refused.value.problems), refused.value.problems


def test_a_numbering_pattern_outside_the_scheme_is_refused_with_the_allowed_ones():
    from reportflow.definitions.loader import (
        _read_yaml,
        definition_files,
        load_organisation,
        parse_definition,
    )
    from reportflow.definitions.schema import DefinitionError

    data = _read_yaml(definition_files()["ktxh-6-thang"])
    assert parse_definition(data, "x.yaml", load_organisation()).numbering == [
        "I.",
        "1.",
        "1.1.",
        "a)",
    ]
    del data["numbering"]
    assert parse_definition(data, "x.yaml", load_organisation()).numbering == [
        "I.",
        "1.",
        "a)",
        "-",
    ]
    data["numbering"] = ["I.", "1.", "(a)"]
    with pytest.raises(DefinitionError) as refused:
        parse_definition(data, "x.yaml", load_organisation())
    (problem,) = refused.value.problems
    assert problem.startswith("numbering: kiểu đánh số không hợp lệ: '(a)'; chỉ dùng được ")
    assert '"I.", "1.", "1.1.", "a)", "-"' in problem


def test_an_edited_organisation_file_is_read_again(tmp_path, restore_environment):
    """The organisation is parsed once per version of its file, so an edit shows at once."""
    from reportflow.core.config import SAMPLES_DIR
    from reportflow.definitions.loader import load_organisation
    from tests.factories import use_definitions

    folder = tmp_path / "definitions"
    folder.mkdir()
    text = (SAMPLES_DIR / "organisation.yaml").read_text(encoding="utf-8")
    (folder / "organisation.yaml").write_text(text, encoding="utf-8")
    use_definitions(folder, samples=False)
    first = load_organisation()
    assert load_organisation() is first, "read once while the file is unchanged"
    renamed = text.replace(first.issuing_body, "SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH MỚI", 1)
    (folder / "organisation.yaml").write_text(renamed, encoding="utf-8")
    assert load_organisation().issuing_body == "SỞ THÔNG TIN VÀ TRUYỀN THÔNG TỈNH MỚI"


def test_the_libyaml_loader_reads_and_refuses_as_the_pure_python_one():
    """The bounded loader runs on libyaml's parser when PyYAML has it; same data, same limits."""
    import yaml

    from reportflow.core import safe_yaml
    from reportflow.core.config import SAMPLES_DIR
    from reportflow.definitions.loader import DEFINITION_FILE_LIMITS

    assert yaml.__with_libyaml__ and safe_yaml._BoundedLoader is not safe_yaml._PureBoundedLoader
    text = (SAMPLES_DIR / "ktxh-6-thang.yaml").read_text(encoding="utf-8")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n"
        for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    outcomes = []
    for loader in (safe_yaml._PureBoundedLoader, safe_yaml._BoundedLoader):
        data = loader(text, DEFINITION_FILE_LIMITS, "ktxh-6-thang.yaml").get_single_data()
        with pytest.raises(safe_yaml.YamlRefused) as refused:
            loader(bomb, DEFINITION_FILE_LIMITS, "bom.yaml").get_single_data()
        outcomes.append((data, str(refused.value)))
    assert outcomes[0] == outcomes[1]
    assert "vượt giới hạn" in outcomes[0][1]
