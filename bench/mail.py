"""Mail bench: the CPU one e-mail costs the sending process through the installation's own
SMTP path, against the same message through apprise's mailto:// plugin, both to a real SMTP
sink running in another process (so its work is not counted)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import patched_environment
from bench.results import Row
from reportflow.notifications.channels import email_url, own_email_address
from reportflow.notifications.sender import load_channel_plugins, send_message

GOAL_RATIO = 0.5
MESSAGES = 60
ADDRESS = "truong.phong@sotttt.travinh.gov.vn"
TITLE = "[Báo cáo KT-XH 6 tháng] Đề nghị gửi phần “Bưu chính – Viễn thông”"
BODY = "Kính gửi: Ông Võ Thanh Hải\n\n" + "Nội dung đề nghị gửi phần báo cáo.\n" * 30

SINK = """
import sys, time
from pathlib import Path
from reportflow.runtime.smtp_sink import SmtpSink
sink = SmtpSink(Path(sys.argv[1])).start()
print(sink.port, flush=True)
time.sleep(3600)
"""


@contextmanager
def sink_process(outbox: Path) -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, "-c", SINK, str(outbox)], stdout=subprocess.PIPE, text=True
    )
    try:
        yield int(process.stdout.readline())
    finally:
        process.kill()
        process.wait(timeout=30)


def cpu_per_message(send: Callable[[], bool], messages: int) -> float:
    """CPU seconds of this process (all its threads: apprise sends from a pool) per message."""
    assert send(), "warm-up message refused"
    began = time.process_time()
    delivered = sum(send() for _ in range(messages))
    used = time.process_time() - began
    assert delivered == messages, f"{messages - delivered} messages refused"
    return used / messages


def run(messages: int = MESSAGES) -> list[Row]:
    load_channel_plugins()
    with tempfile.TemporaryDirectory(prefix="reportflow-bench-mail-") as tmp:
        outbox = Path(tmp) / "outbox"
        with sink_process(outbox) as port, patched_environment(REPORTFLOW_SMTP_PORT=str(port)):
            own_url = email_url(ADDRESS)
            apprise_url = f"{own_url}&format=text"
            assert own_email_address(own_url) and not own_email_address(apprise_url)
            own = cpu_per_message(lambda: send_message(own_url, TITLE, BODY).ok, messages)
            plugin = cpu_per_message(lambda: send_message(apprise_url, TITLE, BODY).ok, messages)
            time.sleep(0.5)
            received = len(list(outbox.glob("*.eml")))
    assert received == 2 * (messages + 1), f"the sink holds {received} messages"
    print(f"\nOne e-mail, CPU of the sending process (mean of {messages})")
    print(f"  {'own SMTP path':<26} {own * 1000:7.1f} ms")
    print(f"  {'apprise mailto (baseline)':<26} {plugin * 1000:7.1f} ms")
    print(f"  {'ratio':<26} {own / plugin:7.2f} ×   (goal ≤ {GOAL_RATIO:g} ×)")
    return [
        Row(
            id="M1",
            figure=f"CPU of one e-mail to the installation's mail server (mean of {messages})",
            goal=f"≤ {GOAL_RATIO:g}× the same message through apprise",
            measured=own,
            unit="s",
            baseline=plugin,
            baseline_label="apprise mailto://, same message and server",
            meets_goal=own <= GOAL_RATIO * plugin,
        )
    ]
