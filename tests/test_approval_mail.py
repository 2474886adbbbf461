"""The director's mail (issue 21, parts 2 and 6): the run's page for a desk, the V2 page for a
phone with one line on where Resume is, both from the Prefect API in use; the subject names the
recipient's own title."""

from __future__ import annotations

import uuid

from sqlmodel import select

from reportflow.core.config import reload_settings
from reportflow.core.prefect_address import api_target, prefect_ui_url
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.steps import send_approval_codes
from reportflow.demo.run import wait_until
from reportflow.models import Person, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.test_code_lockout import awaiting

__all__ = ["awaiting"]


def test_the_mail_links_the_desk_page_and_the_phone_page_and_names_his_title(awaiting, monkeypatch):
    cycle_id, smtp = awaiting["cycle"], awaiting["smtp"]
    monkeypatch.delenv("REPORTFLOW_PREFECT_UI_URL", raising=False)
    reload_settings()
    ui = prefect_ui_url()
    assert ui == api_target()[0].rstrip("/").removesuffix("/api"), "the UI beside the API in use"
    run_id = str(uuid.uuid4())
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        cycle.flow_run_id = run_id
        session.add(cycle)
        director = session.exec(select(Person).where(Person.code == "giamdoc")).one()
        director.title = "Phó Giám đốc"
        session.add(director)
    before = len(smtp.messages())
    send_approval_codes(cycle_id, renew=True)
    mails = wait_until(lambda: smtp.messages()[before:], 20, "the renewed code's mail")
    assert str(mails[0]["Subject"]).endswith("Dự thảo báo cáo chờ Phó Giám đốc phê duyệt (vòng 1)")
    text = message_text(mails[0])
    desk, phone = (
        f"{ui}/runs/flow-run/{run_id}",
        f"{ui}/v2/runs/flow-run/{run_id}",
    )
    assert text.index(desk) < text.index(phone)
    assert 'Trên điện thoại: mở trang dưới đây, bấm ⋮ ở góc trên bên phải, chọn "Resume"' in text
