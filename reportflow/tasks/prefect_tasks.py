"""The Prefect tasks of a cycle: thin wrappers, so that every step shows in the UI with its retries.

No task result is cached: a run that re-runs from the top after a resume must read the database
again, never a result remembered from before it waited.

Task names are unaccented: the classic UI's run graph draws ASCII only ("gi  ngh cc phng"). The
Vietnamese label is the task's description and the first line each run logs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from prefect import get_run_logger
from prefect import task as prefect_task
from prefect.cache_policies import NO_CACHE

from reportflow.cycle import steps as cycle_steps
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.documents import document_file
from reportflow.cycle.drafting import draft as drafting
from reportflow.cycle.drafting import draft_view
from reportflow.cycle.drafting.merge import render_final as render_final_document
from reportflow.cycle.issuing import dispatch, numbering
from reportflow.cycle.tracking import audit_trail, progress
from reportflow.models import session_scope

F = TypeVar("F", bound=Callable)


def task(name: str, label: str, **options) -> Callable[[F], F]:
    """A Prefect task named `name` (ASCII, for the graph) that logs `label` when it starts."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def logged(*args, **kwargs):
            get_run_logger().info(label)
            return fn(*args, **kwargs)

        return prefect_task(
            logged,
            name=name,
            description=label,
            cache_policy=NO_CACHE,
            persist_result=False,
            **options,
        )

    return decorate


@task(name="gui-de-nghi", label="Gửi đề nghị các phòng")
def request_sections(cycle_id: int) -> int:
    return cycle_steps.request_sections(cycle_id)


@task(name="kiem-tra-du-phan", label="Kiểm tra đủ các phần")
def sections_complete(cycle_id: int) -> bool:
    return drafting.mark_drafting_if_complete(cycle_id)


@task(name="tong-hop-du-thao", label="Tổng hợp dự thảo", retries=3, retry_delay_seconds=60)
def prepare_draft(cycle_id: int) -> str:
    return str(document_file(cycle_steps.render_round_draft(cycle_id)))


@task(
    name="gui-du-thao",
    label="Gửi dự thảo và mã phê duyệt cho Giám đốc",
    retries=3,
    retry_delay_seconds=60,
)
def send_draft(cycle_id: int) -> int:
    """Retried when no director could be reached: nobody could decide."""
    return cycle_steps.send_approval_codes(cycle_id)


@task(name="dang-du-thao", label="Đăng dự thảo lên Prefect", retries=2, retry_delay_seconds=5)
def publish_draft(cycle_id: int) -> dict[str, str]:
    return draft_view.publish_draft(cycle_id)


@task(name="cap-so-van-ban", label="Cấp số văn bản", retries=2, retry_delay_seconds=1)
def assign_number(cycle_id: int) -> str:
    return numbering.assign_number(cycle_id).number_text


@task(
    name="ky-so-nguoi-ky", label="Ký số của người có thẩm quyền", retries=1, retry_delay_seconds=5
)
def sign_for_approver(cycle_id: int) -> str:
    # Imported here: pyHanko costs 0.7 s, which a run that signs nothing (every wake of a cycle
    # before its approval) should not pay at its start.
    from reportflow.cycle.issuing import signing

    return signing.sign_for_approver(cycle_id).sha256


@task(
    name="ky-so-co-quan",
    label="Điền số, ngày và ký số của cơ quan",
    retries=1,
    retry_delay_seconds=5,
)
def seal_by_agency(cycle_id: int) -> str:
    from reportflow.cycle.issuing import signing

    return signing.seal_by_agency(cycle_id).sha256


@task(name="lap-ban-chinh-thuc", label="Lập bản chính thức")
def render_final(cycle_id: int) -> str:
    with session_scope() as session:
        final = render_final_document(session, get_cycle(session, cycle_id))
    return str(document_file(final))


@task(
    name="phat-hanh", label="Phát hành tới nơi nhận", retries=3, retry_delay_seconds=[10, 60, 330]
)
def dispatch_report(cycle_id: int) -> dict:
    """The last retry comes after the outbox lease (300 s): a message left "sending" by a machine
    that died is then sent by this run, not by the next sweep."""
    outcome = dispatch.dispatch_report(cycle_id)
    if outcome.failed or outcome.in_progress:
        missing = ", ".join(outcome.failed + outcome.in_progress)
        raise RuntimeError(f"Chưa gửi được tới: {missing}; sẽ thử lại (nơi đã nhận được bỏ qua).")
    return {"sent": outcome.sent, "already_sent": outcome.already_sent}


@task(name="cap-nhat-tien-do", label="Cập nhật bảng tiến độ")
def publish_progress(cycle_id: int) -> None:
    progress.publish_progress(cycle_id)


@task(name="nhat-ky", label="Đăng nhật ký kỳ báo cáo")
def publish_trail(cycle_id: int) -> None:
    audit_trail.publish_trail(cycle_id)
