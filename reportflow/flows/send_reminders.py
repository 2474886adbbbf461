"""The reminder sweep over every open cycle (deployed on a weekday 08:00 cron)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from reportflow.models import init_db
from reportflow.tasks import prefect_tasks as steps
from reportflow.tasks.reminders import collecting_cycle_ids, send_due_reminders
from reportflow.tasks.wake import wake_complete_cycles


@flow(name="send_reminders")
def send_reminders() -> int:
    init_db()
    sent = send_due_reminders()
    collecting = collecting_cycle_ids()
    for cycle_id in collecting:
        steps.publish_progress(cycle_id)
    woken = wake_complete_cycles(collecting)
    if woken:
        get_run_logger().warning("Đã đánh thức các kỳ đủ phần nhưng còn chờ: %s", woken)
    get_run_logger().info("Đã gửi %d nhắc việc.", len(sent))
    return len(sent)
