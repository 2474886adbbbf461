"""What `serve` mends by itself while it watches, so that a cycle never waits for a person to
notice a dead machine: a cycle whose run's machine died (the run crashed, or stayed Pending for
good) gets a new run, and a run still waiting although the database says it need not (all
sections in, or the decision recorded) is woken without waiting for the next sweep.

A new run starts every step from what the database holds, so nothing is done twice; two
machines mending the same cycle at once get one run (`start_cycle_run`'s idempotency key)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
from sqlalchemy.exc import SQLAlchemyError

from reportflow.core.errors import UserError
from reportflow.cycle.safety_net import wake_waiting_runs
from reportflow.notifications.redaction import redact_text
from reportflow.runtime.run_health import stalled_cycles
from reportflow.runtime.runs import start_cycle_run

MAX_MENDS_PER_HOUR = 5
"""A run that dies again and again (a machine out of memory at the same step) is left to a
person after this many new runs in an hour; `reportflow check` then names it."""


@dataclass
class RunMender:
    mended_at: defaultdict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    last_failure: str = ""

    def mend(self) -> list[str]:
        """One round: the Vietnamese lines to show, one per thing mended or given up on."""
        try:
            lines = self._start_new_runs()
            lines += [
                f"Kỳ báo cáo số {cycle_id}: quy trình còn chờ dù cơ sở dữ liệu đã đủ để chạy "
                "tiếp (đủ bài nộp hoặc đã có quyết định); đã đánh thức."
                for cycle_id in wake_waiting_runs()
            ]
        except (httpx.HTTPError, SQLAlchemyError) as exc:
            failure = (
                "Chưa kiểm tra được các kỳ báo cáo đang mở (máy chủ Prefect hoặc cơ sở dữ liệu "
                f"không trả lời: {redact_text(str(exc))[:200]}); sẽ thử lại."
            )
            if failure == self.last_failure:
                return []
            self.last_failure = failure
            return [failure]
        self.last_failure = ""
        return lines

    def _start_new_runs(self) -> list[str]:
        lines = []
        now = time.monotonic()
        for stalled in stalled_cycles():
            cycle_id = stalled.cycle_id
            recent = [t for t in self.mended_at[cycle_id] if now - t < 3600]
            self.mended_at[cycle_id] = recent
            if not stalled.serve_mends or len(recent) >= MAX_MENDS_PER_HOUR:
                continue
            recent.append(now)
            try:
                started = start_cycle_run(
                    cycle_id, replace=stalled.replace, replacing=stalled.run_id
                )
            except UserError as exc:
                lines.append(f"Kỳ báo cáo số {cycle_id}: chưa chạy lại được quy trình ({exc}).")
                continue
            lines.append(
                f"Kỳ báo cáo số {cycle_id}: {stalled.problem}; đã chạy quy trình mới "
                f"{started.url or started.flow_run_id} (làm tiếp từ những gì đã ghi)."
            )
            if len(recent) == MAX_MENDS_PER_HOUR:
                lines.append(
                    f"Kỳ báo cáo số {cycle_id}: đã chạy lại {MAX_MENDS_PER_HOUR} lần trong một "
                    "giờ; nếu quy trình lại dừng, serve để người vận hành xử lý (xem "
                    "reportflow check)."
                )
        return lines
