"""The reminder sweep over every open cycle (deployed on a weekday 08:00 cron)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from reportflow.cycle.reminding.reminders import collecting_cycle_ids, sweep
from reportflow.cycle.safety_net import wake_waiting_runs
from reportflow.models import init_db
from reportflow.tasks import prefect_tasks as steps


@flow(name="send_reminders")
def send_reminders() -> int:
    """Fails, after doing all it can, when some message could not be sent, so the run shows it."""
    init_db()
    report = sweep()
    collecting = collecting_cycle_ids()
    for cycle_id in collecting:
        steps.publish_progress(cycle_id)
    woken = wake_waiting_runs()
    logger = get_run_logger()
    if woken:
        logger.warning("Đã đánh thức các kỳ đủ phần hoặc đã có quyết định nhưng còn chờ: %s", woken)
    for line in report.resent:
        logger.info("Đã gửi lại: %s", line)
    for problem in report.held:
        logger.warning("Đang được gửi ở nơi khác: %s · %s", problem.what, problem.channel)
    logger.info("Đã gửi %d nhắc việc.", len(report.sent))
    if report.failed:
        for problem in report.failed:
            logger.error("Gửi lỗi: %s · %s: %s", problem.what, problem.channel, problem.reason)
        raise RuntimeError(
            f"{len(report.failed)} tin gửi lỗi; lần quét sau sẽ gửi lại (xem: reportflow check)."
        )
    return len(report.sent)
