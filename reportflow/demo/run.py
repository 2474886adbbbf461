"""`reportflow demo`: opens, fills, approves, numbers and dispatches one cycle of the sample report."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from reportflow.core.config import reload_settings
from reportflow.core.vi_format import short_date as vn_date
from reportflow.demo.scenario import (
    DATA_DIR,
    SAMPLES_ONLY_ENV,
    load_scenario,
    open_scenario_cycle,
    section_file,
)

CODE_PATTERN = re.compile(r"Mã phê duyệt một lần của vòng này: ([0-9A-Z]{4}-[0-9A-Z]{4})")


class DemoStep:
    def __init__(self, console: Console):
        self.console = console
        self.started = time.monotonic()

    def __call__(self, text: str) -> None:
        self.console.print(f"[dim]{time.monotonic() - self.started:6.1f}s[/] {text}")


def configure_environment(out: Path, scenario: dict, smtp_port: int) -> None:
    """The demo's settings, set in the environment so the flow's own process sees them too."""
    os.environ.update(
        REPORTFLOW_DATA_DIR=str((out / "data").resolve()),
        REPORTFLOW_DATABASE_URL=os.environ.get("REPORTFLOW_DEMO_DATABASE_URL", ""),
        REPORTFLOW_SMTP_HOST="127.0.0.1",
        REPORTFLOW_SMTP_PORT=str(smtp_port),
        REPORTFLOW_MAIL_FROM="vanphong@stttt.travinh.example",
        REPORTFLOW_FROZEN_NOW=scenario["clock"],
        REPORTFLOW_PAUSE_POLL_S="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        **SAMPLES_ONLY_ENV,
    )
    os.environ.setdefault("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    api = os.environ["PREFECT_API_URL"]
    os.environ["REPORTFLOW_PREFECT_UI_URL"] = api.removesuffix("/api")
    reload_settings()


DEMO_SIGNER = "giamdoc"


def configure_demo_signing(out: Path) -> Path:
    """Demo keys for the director and the agency (PKCS#12 files of a CA made here on the first
    run and kept in out/demo-keys, every name marked THỬ NGHIỆM), with their passwords in files
    and demo images; set in the environment so the flow's process signs with them. Returns the
    CA's certificate, the one `reportflow verify --trust` takes."""
    from reportflow.definitions.loader import load_organisation
    from reportflow.signatures.demo_keys import DEMO_MARK, DemoCa, demo_seal_png, demo_signature_png

    folder = (out / "demo-keys").resolve()
    ca_pem = folder / "ca-thu-nghiem.pem"
    keys = {name: folder / f"{name}.p12" for name in (DEMO_SIGNER, "co-quan")}
    pins = {name: folder / f"{name}.pin" for name in keys}
    if not (ca_pem.exists() and all(p.exists() for p in [*keys.values(), *pins.values()])):
        organisation = load_organisation()
        agency = organisation.issuing_body_name
        ca = DemoCa.create(folder, agency)
        signer = next(p for p in organisation.people if p.code == DEMO_SIGNER)
        for name, common_name in ((DEMO_SIGNER, signer.name), ("co-quan", agency)):
            pins[name].write_text(secrets.token_urlsafe(12))
            pins[name].chmod(0o600)
            ca.pkcs12_file(
                keys[name], f"{common_name} ({DEMO_MARK})", agency, pins[name].read_text()
            )
        demo_signature_png(folder / "images" / f"{DEMO_SIGNER}.png", signer.name)
        demo_seal_png(folder / "images" / "seal.png", agency)
    os.environ.update(
        REPORTFLOW_AGENCY_KEY=f"pkcs12:{keys['co-quan']}",
        REPORTFLOW_AGENCY_KEY_PIN_FILE=str(pins["co-quan"]),
        REPORTFLOW_SIGNER_KEYS=json.dumps({DEMO_SIGNER: f"pkcs12:{keys[DEMO_SIGNER]}"}),
        REPORTFLOW_TRUST_ROOTS=json.dumps([str(ca_pem)]),
        REPORTFLOW_SIGNATURE_IMAGES_DIR=str(folder / "images"),
        **{f"REPORTFLOW_SIGNER_PIN_FILE_{DEMO_SIGNER.upper()}": str(pins[DEMO_SIGNER])},
    )
    os.environ.pop("REPORTFLOW_AGENCY_KEY_PIN", None)
    reload_settings()
    return ca_pem


def wait_until(predicate, timeout_s: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            log = getattr(proc, "log_path", "its log")
            raise RuntimeError(f"Tiến trình quy trình dừng sớm (khi chờ: {what}); xem {log}")
        time.sleep(0.3)
    raise TimeoutError(f"Hết thời gian chờ: {what}")


def run_demo(out: Path, console: Console) -> Path:
    from reportflow.runtime.prefect_server import ensure_server
    from reportflow.runtime.smtp_sink import SmtpSink, attachment_names, message_text
    from reportflow.web.server import web_in_thread

    step = DemoStep(console)
    scenario = load_scenario()
    for stale in ("data", "outbox", "work"):
        shutil.rmtree(out / stale, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)

    sink = SmtpSink(out / "outbox").start()
    configure_environment(out, scenario, sink.port)
    step(f"Máy chủ thư thử nghiệm nhận tại 127.0.0.1:{sink.port} → {out / 'outbox'}")
    ca_pem = configure_demo_signing(out)
    step(f"Khóa ký số thử nghiệm (PKCS#12) của Giám đốc và của cơ quan: {ca_pem.parent}")

    api_url = os.environ["PREFECT_API_URL"]
    home = Path(os.environ.get("PREFECT_HOME", ".prefect")).resolve()
    started = ensure_server(api_url, home, out / "prefect-server.log")
    step(("Đã khởi động" if started else "Dùng lại") + f" máy chủ Prefect tại {api_url}")

    try:
        with web_in_thread() as web:
            step(f"Trang web gửi báo cáo cho các phòng: {web}")
            cycle_id, flow = _open_and_start(out, scenario, step)
            final = _collect_decide_dispatch(
                out, scenario, cycle_id, flow, step, sink, message_text
            )
    finally:
        sink.stop()
    _print_summary(console, cycle_id, final, sink, attachment_names)
    _print_signed(console, out, cycle_id, ca_pem)
    return final


def _open_and_start(out: Path, scenario: dict, step) -> tuple[int, subprocess.Popen]:
    cycle_id, internal = open_scenario_cycle(scenario)
    step(
        f"Mở kỳ báo cáo số {cycle_id} theo Công văn {scenario['request']['number']}; hạn nội bộ {vn_date(internal)}"
    )

    flow = start_flow_process(cycle_id, out / "flow.log")
    wait_for_pause(cycle_id, "sections-", flow)
    step(
        "Quy trình report_cycle đang chạy, đã gửi đề nghị tới các phòng và tạm dừng chờ đủ các phần"
    )
    return cycle_id, flow


def start_flow_process(cycle_id: int, log_path: Path) -> subprocess.Popen:
    """Runs the cycle's flow locally in its own process, as `reportflow cycle run` would."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "reportflow.cli", "cycle", "run", str(cycle_id)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    process.log_path = log_path
    return process


def wait_for_pause(
    cycle_id: int, prefix: str, flow: subprocess.Popen, timeout_s: float = 120
) -> None:
    from uuid import UUID

    from prefect.client.orchestration import get_client

    from reportflow.cycle.cycles import get_cycle
    from reportflow.models import session_scope

    def run_id():
        with session_scope() as session:
            return get_cycle(session, cycle_id).flow_run_id

    flow_run_id = wait_until(run_id, timeout_s, "quy trình bắt đầu chạy", flow)

    def paused():
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(flow_run_id)).state
        return (
            state and state.is_paused() and (state.state_details.pause_key or "").startswith(prefix)
        )

    wait_until(paused, timeout_s, f"quy trình tạm dừng ở bước {prefix}", flow)


def _collect_decide_dispatch(out, scenario, cycle_id, flow, step, sink, message_text) -> Path:
    from reportflow.cycle.collecting.submit import submit_indicators, submit_section
    from reportflow.cycle.deciding.decide import send_decision
    from reportflow.cycle.reminding.reminders import send_due_reminders
    from reportflow.demo.web_client import newest_link, submit_through_web

    work = out / "work"
    for entry in scenario["submissions"]:
        path = section_file(entry, work)
        result = submit_section(cycle_id, entry["section"], path, entry["by"])
        step(
            f"  {entry['by']} gửi phần '{entry['section']}' ({path.suffix}), phiên bản {result.version_no}"
        )
    for entry in scenario["indicators"]:
        codes = submit_indicators(cycle_id, DATA_DIR / entry["file"], entry["by"])
        step(f"  {entry['by']} gửi số liệu: {', '.join(codes)}")

    reminded = send_due_reminders()
    for item in reminded:
        step(f"Nhắc việc bước {item.step.key} → {item.person_code} (phần '{item.section_key}')")

    for entry in scenario["late"]:
        path = section_file(entry, work)
        link = newest_link(sink, entry["email"], entry["section"])
        sent = submit_through_web(link, path)
        step(
            f"  {entry['by']} gửi muộn phần '{entry['section']}' qua trang web (liên kết trong thư "
            f"nhắc việc: {link}); phiên bản {sent.version_no}, biên nhận sau "
            f"{sent.seconds_to_receipt:.2f} giây"
        )

    def approval_code():
        for message in sink.messages():
            match = CODE_PATTERN.search(message_text(message))
            if match:
                return match.group(1)
        return None

    code = wait_until(approval_code, 120, "thư xin phê duyệt gửi Giám đốc", flow)
    step("Dự thảo đã tổng hợp; Giám đốc nhận thư kèm dự thảo và mã phê duyệt một lần")
    step("Giám đốc phê duyệt: " + send_decision(cycle_id, code, [], False, "Đồng ý ban hành."))

    if flow.wait(timeout=180) != 0:
        raise RuntimeError("Quy trình của kỳ báo cáo thất bại; xem out/demo/flow.log")
    final = _final_document(cycle_id)
    target = out / "final.docx"
    shutil.copyfile(final, target)
    step(f"Đã cấp số, ký phát hành và gửi đi; bản chính thức: {target}")
    return target


def _final_document(cycle_id: int) -> Path:
    from reportflow.cycle.documents import document_file, find_document
    from reportflow.models import session_scope

    with session_scope() as session:
        record = find_document(session, cycle_id, "final")
    return document_file(record)


def _print_signed(console: Console, out: Path, cycle_id: int, ca_pem: Path) -> Path:
    """The signed PDF beside the DOCX, checked as `reportflow verify` checks it."""
    from reportflow.cycle.documents import document_file, find_document
    from reportflow.models import session_scope
    from reportflow.signatures.verification import verify_pdf

    with session_scope() as session:
        record = find_document(session, cycle_id, "signed")
    target = out / "final.pdf"
    shutil.copyfile(document_file(record), target)
    verdict = verify_pdf(target.read_bytes(), [ca_pem])
    console.print(f"Bản phát hành có hai chữ ký số: [bold]{target.resolve()}[/]")
    for finding in verdict.findings:
        console.print(f"  {finding.line()}", highlight=False)
    console.print(
        ("  Đạt yêu cầu của Nghị định 30/2020." if verdict.passes else "  KHÔNG ĐẠT: ")
        + " ".join(verdict.problems),
        highlight=False,
    )
    console.print(
        f"Kiểm tra lại: .venv/bin/reportflow verify {target} --trust {ca_pem}",
        highlight=False,
        soft_wrap=True,
    )
    return target


def _print_summary(console: Console, cycle_id: int, final: Path, sink, attachment_names) -> None:
    from sqlmodel import select

    from reportflow.cycle.cycles import get_cycle
    from reportflow.cycle.reminding.planned_messages import cycle_url
    from reportflow.cycle.tracking.cycle_table import print_cycle_table
    from reportflow.cycle.tracking.progress import progress_rows, row_cells
    from reportflow.models import RegisterEntry, session_scope

    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        print_cycle_table(console, cycle, [row_cells(r) for r in progress_rows(session, cycle_id)])
        entry = session.exec(select(RegisterEntry).where(RegisterEntry.cycle_id == cycle_id)).one()
        url = cycle_url(cycle.flow_run_id)
    console.print(f"Số văn bản: [bold]{entry.number_text}[/], ngày {vn_date(entry.issued_on)}")
    console.print(f"Bản chính thức: [bold]{final.resolve()}[/]")
    console.print(f"Quy trình trên Prefect UI: [bold]{url}[/]")
    data_dir = os.environ.get("REPORTFLOW_DATA_DIR", "")
    console.print(
        f"Xem lại tiến độ: REPORTFLOW_DATA_DIR={data_dir} .venv/bin/reportflow status {cycle_id}",
        highlight=False,
        soft_wrap=True,
    )
    console.print("Thư đã nhận tại máy chủ thư thử nghiệm:")
    for message in sink.messages():
        attached = ", ".join(attachment_names(message)) or "-"
        console.print(f"  → {message['To']}: {message['Subject']} [dim](đính kèm: {attached})[/]")
