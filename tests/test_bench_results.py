"""The one benchmark table: rows merge by id across benches and runs, in both files."""

from __future__ import annotations

import json

from bench.results import Row, record


def row(row_id: str, measured: float, baseline: float | None = None, meets: bool = True) -> Row:
    return Row(
        id=row_id,
        figure=f"figure {row_id}",
        goal="≤ 1 s",
        measured=measured,
        unit="s",
        baseline=baseline,
        meets_goal=meets,
    )


def test_rows_merge_by_id_and_both_files_carry_every_field(tmp_path):
    record([row("S8.near", 0.02), row("SX.100.rss", 900), row("D1", 0.05, baseline=0.1)], tmp_path)
    record([row("S1.p50", 0.2, meets=False), row("D1", 0.04, baseline=0.08)], tmp_path)

    rows = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["rows"]
    assert [r["id"] for r in rows] == ["D1", "S1.p50", "S8.near", "SX.100.rss"]
    d1 = rows[0]
    assert {"id", "figure", "goal", "measured", "baseline", "ratio", "meets_goal"} <= d1.keys()
    assert (d1["measured"], d1["baseline"], d1["ratio"]) == (0.04, 0.08, 0.5)
    assert rows[2]["ratio"] is None and rows[2]["meets_goal"] is True

    table = (tmp_path / "results.md").read_text(encoding="utf-8").splitlines()
    body = [line for line in table if line.startswith("| ") and not line.startswith("| id ")]
    assert [line.split(" | ")[0] for line in body] == [
        "| D1",
        "| S1.p50",
        "| S8.near",
        "| SX.100.rss",
    ]
    assert "| 40.0 ms | 80.0 ms | 0.50 | yes |" in body[0]
    assert "| **NO** |" in body[1]
