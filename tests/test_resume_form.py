"""Prefect marks a run paused before it saves the form the run waits for; a decision sent in
between is refused for the missing form. Against a real Prefect server, a run is put in that
state through the API (as the flow engine leaves it for that moment) and its form saved late."""

from __future__ import annotations

import json
import threading
import time

import pytest

from reportflow.cycle.deciding.approval import DirectorDecision
from reportflow.cycle.deciding.decide import resume_with_input
from reportflow.services.prefect_api import PrefectApiError, api_client, read_run_state

KEYSET = {
    "response": "decision-r1-response",
    "schema": "decision-r1-schema",
    "description": "decision-r1-description",
}
DECISION = {"decision": "Phê duyệt", "approval_code": "ABCD-EFGH", "comment": "", "changes": []}


def paused_run_without_its_form(client) -> str:
    flow = client.post("flows/", json={"name": "resume-form-test"}).json()
    run = client.post("flow_runs/", json={"flow_id": flow["id"]}).json()
    paused = {
        "type": "PAUSED",
        "name": "Suspended",
        "state_details": {
            "pause_key": "decision-r1",
            "pause_reschedule": False,
            "run_input_keyset": KEYSET,
        },
    }
    answer = client.post(f"flow_runs/{run['id']}/set_state", json={"state": paused, "force": True})
    assert answer.json()["status"] == "ACCEPT", answer.text
    return run["id"]


def save_form(client, run_id: str) -> None:
    schema = json.dumps(DirectorDecision.model_json_schema())
    answer = client.post(
        f"flow_runs/{run_id}/input", json={"key": KEYSET["schema"], "value": schema}
    )
    answer.raise_for_status()


def test_a_decision_sent_before_the_form_is_saved_is_sent_again_until_it_is(prefect_server):
    with api_client() as client, api_client() as other:
        run_id = paused_run_without_its_form(client)
        saver = threading.Timer(0.8, save_form, (other, run_id))
        saver.start()
        began = time.monotonic()
        resume_with_input(client, run_id, DECISION, wait_s=30)
        took = time.monotonic() - began
        saver.join()
        assert took >= 0.7, "it was refused first, while the form was missing"
        assert not read_run_state(client, run_id).is_paused
        stored = client.get(f"flow_runs/{run_id}/input/{KEYSET['response']}")
        assert stored.json()["approval_code"] == "ABCD-EFGH"


def test_a_form_that_never_comes_fails_with_the_servers_reason(prefect_server):
    with api_client() as client:
        run_id = paused_run_without_its_form(client)
        with pytest.raises(PrefectApiError, match="Run input schema not found"):
            resume_with_input(client, run_id, DECISION, wait_s=0.5)
        assert read_run_state(client, run_id).is_paused
