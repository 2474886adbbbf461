"""The Prefect tasks of a cycle: thin wrappers, so that every step shows in the UI with its retries.

No task result is cached: a run that re-runs from the top after a resume must read the database
again, never a result remembered from before it waited.
"""

from __future__ import annotations

from functools import partial

from prefect import task as prefect_task
from prefect.cache_policies import NO_CACHE

from reportflow.models import session_scope
from reportflow.tasks import cycle_steps, dispatch, numbering, progress
from reportflow.tasks.cycles import get_cycle
from reportflow.tasks.documents import document_file
from reportflow.tasks.merge import render_final as render_final_document

task = partial(prefect_task, cache_policy=NO_CACHE, persist_result=False)


@task(name="gửi đề nghị các phòng")
def request_sections(cycle_id: int) -> int:
    return cycle_steps.request_sections(cycle_id)


@task(name="kiểm tra đủ các phần")
def sections_complete(cycle_id: int) -> bool:
    return cycle_steps.mark_drafting_if_complete(cycle_id)


@task(name="tổng hợp dự thảo", retries=3, retry_delay_seconds=60)
def prepare_draft(cycle_id: int) -> str:
    return str(cycle_steps.prepare_draft(cycle_id))


@task(name="cấp số văn bản", retries=2, retry_delay_seconds=1)
def assign_number(cycle_id: int) -> str:
    return numbering.assign_number(cycle_id).number_text


@task(name="lập bản chính thức")
def render_final(cycle_id: int) -> str:
    with session_scope() as session:
        final = render_final_document(session, get_cycle(session, cycle_id))
    return str(document_file(final))


@task(name="phát hành tới nơi nhận", retries=3, retry_delay_seconds=[10, 60, 330])
def dispatch_report(cycle_id: int) -> dict:
    """The last retry comes after the outbox lease (300 s): a message left "sending" by a machine
    that died is then sent by this run, not by the next sweep."""
    outcome = dispatch.dispatch_report(cycle_id)
    if outcome.failed or outcome.in_progress:
        missing = ", ".join(outcome.failed + outcome.in_progress)
        raise RuntimeError(f"Chưa gửi được tới: {missing}; sẽ thử lại (nơi đã nhận được bỏ qua).")
    return {"sent": outcome.sent, "already_sent": outcome.already_sent}


@task(name="cập nhật bảng tiến độ")
def publish_progress(cycle_id: int) -> None:
    progress.publish_progress(cycle_id)
