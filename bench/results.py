"""The one benchmark table: `out/bench/results.json` and `out/bench/results.md`.

Every bench adds its rows; a row replaces the row of the same id from an earlier run, so
`make bench` and `make bench-scale` fill one table between them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

OUT_DIR = Path("out/bench")


@dataclass(frozen=True)
class Row:
    id: str
    figure: str
    goal: str
    measured: float
    unit: str
    meets_goal: bool
    baseline: float | None = None
    """Measured in the same run; what `measured` is compared with."""
    baseline_label: str = ""
    note: str = ""
    measured_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat("T", "seconds")
    )

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline:
            return None
        return self.measured / self.baseline

    def as_json(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def out_dir() -> Path:
    return Path(os.environ.get("REPORTFLOW_BENCH_OUT", OUT_DIR))


def load(folder: Path | None = None) -> dict[str, dict]:
    path = (folder or out_dir()) / "results.json"
    if not path.is_file():
        return {}
    return {row["id"]: row for row in json.loads(path.read_text(encoding="utf-8"))["rows"]}


def record(rows: list[Row], folder: Path | None = None) -> Path:
    """Merges `rows` by id into the table and rewrites both files; the Markdown file's path."""
    folder = folder or out_dir()
    folder.mkdir(parents=True, exist_ok=True)
    table = load(folder)
    table.update({row.id: row.as_json() for row in rows})
    ordered = [table[key] for key in sorted(table, key=_natural)]
    (folder / "results.json").write_text(
        json.dumps({"rows": ordered}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    target = folder / "results.md"
    target.write_text(markdown(ordered), encoding="utf-8")
    return target


def _natural(row_id: str) -> tuple:
    """D, R, S… then the number (ids without one, such as SX.*, after the numbered ones); rows
    of one figure (S8.near, S8.past) keep the order they
    were recorded in (the sort is stable)."""
    head, digits, rest = row_id[:1], "", row_id[1:]
    while rest[:1].isdigit():
        digits, rest = digits + rest[0], rest[1:]
    return (head, not digits, int(digits or 0))


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "s" and value < 1:
        return f"{value * 1000:.1f} ms"
    if unit in ("s", "×"):
        return f"{value:.2f} {unit}"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g} {unit}".strip()


def markdown(rows: list[dict]) -> str:
    lines = [
        "# reportflow benchmarks",
        "",
        "One row per figure; `baseline` is measured in the same run; `ratio` = measured / "
        "baseline. Written by `make bench` and `make bench-scale` (rows merge by id).",
        "",
        "| id | figure | goal | measured | baseline | ratio | meets goal | when (UTC) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        baseline = _number(row["baseline"], row["unit"])
        if baseline and row.get("baseline_label"):
            baseline = f"{baseline} ({row['baseline_label']})"
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else ""
        figure = row["figure"] + (f" — {row['note']}" if row.get("note") else "")
        cells = [
            row["id"],
            figure,
            row["goal"],
            _number(row["measured"], row["unit"]),
            baseline,
            ratio,
            "yes" if row["meets_goal"] else "**NO**",
            row["measured_at"].replace("+00:00", ""),
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
