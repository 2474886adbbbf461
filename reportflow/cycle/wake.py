"""Wakes a cycle's flow run that is paused waiting for sections.

Through Prefect's REST API (`reportflow.services.prefect_api`), not its client: this runs in every
completing `reportflow submit` and in the web app's request, where importing Prefect would be
most of the time spent."""

from __future__ import annotations

import logging
import time

import httpx

from reportflow.core.config import get_settings
from reportflow.cycle.cycles import all_sections_in, get_cycle
from reportflow.models import CycleState, session_scope
from reportflow.notifications.redaction import redact_text
from reportflow.services.prefect_api import PrefectApiError, api_client, read_run_state, resume_run

log = logging.getLogger(__name__)

SECTIONS_PAUSE_PREFIX = "sections-"


def wake_cycle(cycle_id: int, wait_s: float | None = None) -> bool:
    """Resumes the run if it waits for sections. The run re-reads the database, so a spurious wake is harmless.

    The run checks the database just before it pauses; if the last section lands in between,
    the run is still Running here, so this waits (briefly) for it to reach the pause.
    """
    with session_scope() as session:
        flow_run_id = get_cycle(session, cycle_id).flow_run_id
    if not flow_run_id:
        return False
    deadline = time.monotonic() + (get_settings().resume_wait_s if wait_s is None else wait_s)
    with api_client() as client:
        while True:
            state = read_run_state(client, flow_run_id)
            if state is None or not state.type or state.is_final:
                return False
            if state.is_paused:
                return _resume_once(client, cycle_id, flow_run_id)
            if not _still_collecting(cycle_id):
                return False
            if time.monotonic() >= deadline:
                if wait_s != 0:
                    log.warning(
                        "Kỳ %s: quy trình %s chưa tới bước chờ; lần quét tới sẽ đánh thức.",
                        cycle_id,
                        flow_run_id,
                    )
                return False
            time.sleep(0.3)


def _resume_once(client: httpx.Client, cycle_id: int, flow_run_id: str) -> bool:
    """At the deadline the last sections land together, and every submission that sees the set
    complete wakes the run (serve's mending round too). Under the cycle's row lock only the
    first still finds it waiting for sections; Prefect would record each resume otherwise."""
    with session_scope(write_lock=True) as session:
        get_cycle(session, cycle_id, for_update=True)
        state = read_run_state(client, flow_run_id)
        if state is None or not state.is_paused:
            return False
        if not state.pause_key.startswith(SECTIONS_PAUSE_PREFIX):
            return False
        resume_run(client, flow_run_id)
        return True


def _still_collecting(cycle_id: int) -> bool:
    with session_scope() as session:
        return get_cycle(session, cycle_id).state == CycleState.COLLECTING


def wake_complete_cycles(cycle_ids: list[int]) -> list[int]:
    """The sweep's safety net: wakes runs still paused although every section is in.

    A submission commits before it wakes the run, so a process killed in between (or a run slow
    to reach its pause) leaves the cycle asleep; the next sweep finds and wakes it.
    """
    woken = []
    for cycle_id in cycle_ids:
        with session_scope() as session:
            complete = all_sections_in(session, cycle_id)
        if complete and wake_cycle(cycle_id, wait_s=0):
            log.warning("Kỳ %s: đã đủ các phần nhưng quy trình còn chờ; đã đánh thức.", cycle_id)
            woken.append(cycle_id)
    return woken


def wake_after_commit(cycle_id: int) -> bool:
    """Wakes the run after a submission is stored; a failure here must not look like a lost
    submission (the sweep's safety net wakes the run later)."""
    try:
        return wake_cycle(cycle_id)
    except Exception as exc:  # noqa: BLE001 - the submission is committed whatever happens here
        log.warning(
            "Kỳ %s: đã lưu bài gửi, nhưng chưa đánh thức được quy trình (%s); "
            "lần quét nhắc việc tới sẽ đánh thức.",
            cycle_id,
            redact_text(str(exc)),
        )
        return False


WITHDRAWN_FORM = {"decision": "Trả lại để sửa", "approval_code": "", "comment": "(dự thảo đã rút)"}
"""What a withdrawal answers the director's open form with: the run sees the round has moved on
and ignores it (the form's schema requires an answer, so it cannot be resumed empty)."""

FORM_NOT_SAVED_YET = "Run input schema not found"
DECISION_PAUSE_PREFIX = "decision-"


def resume_with_input(
    client: httpx.Client, flow_run_id: str, run_input: dict, wait_s: float = 30
) -> None:
    """Prefect marks a run paused before it saves the form it waits for; a resume in between is
    refused for the missing form and changes nothing, so it is sent again until the form is
    there (the decision is sent as soon as the run shows it waits)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return resume_run(client, flow_run_id, run_input=run_input)
        except PrefectApiError as exc:
            if FORM_NOT_SAVED_YET not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.1)


def release_decision_wait(cycle_id: int, run_input: dict | None = None, wait_s: float = 0) -> bool:
    """Resumes a run waiting for the director's form whose answer is already in the database (a
    decision recorded by `reportflow approve`, a withdrawn draft); waits up to ``wait_s`` for a
    run still on its way to the pause. False when the run does not wait there (it reads the
    database when it gets there)."""
    with session_scope() as session:
        flow_run_id = get_cycle(session, cycle_id).flow_run_id
    if not flow_run_id:
        return False
    deadline = time.monotonic() + wait_s
    with api_client() as client:
        while True:
            state = read_run_state(client, flow_run_id)
            if state and state.is_paused and state.pause_key.startswith(DECISION_PAUSE_PREFIX):
                resume_with_input(client, flow_run_id, run_input or WITHDRAWN_FORM)
                return True
            if state is None or state.is_final or time.monotonic() >= deadline:
                return False
            time.sleep(0.1)


SIGNATURE_PAUSE_PREFIX = "signature-"


def release_signature_wait(cycle_id: int) -> bool:
    """Resumes a run waiting "chờ ký số" (the clerk plugged the token in, or fixed the PIN): it
    tries the signature again. False when the run does not wait there."""
    with session_scope() as session:
        flow_run_id = get_cycle(session, cycle_id).flow_run_id
    if not flow_run_id:
        return False
    with api_client() as client:
        state = read_run_state(client, flow_run_id)
        if state and state.is_paused and state.pause_key.startswith(SIGNATURE_PAUSE_PREFIX):
            resume_run(client, flow_run_id)
            return True
    return False
