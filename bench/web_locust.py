"""The deadline hour's last burst, for Locust (`make bench-scale`, rows SX.L.*): each simulated
division head opens the link of its own section, previews and presses "Gửi" once, half with a
Word file and half with pasted Markdown, then stops. The links come from the JSON file named by
REPORTFLOW_LOCUST_LINKS ({"1": link, ...}); user n takes link n. Run headless, against
127.0.0.1 only, with a fixed number of users and a time limit:

    locust -f bench/web_locust.py --headless -u 200 -r 50 --run-time 180s

The run ends when every head has had his receipt (or his refusal). The figures are written by
this file at the end, to REPORTFLOW_LOCUST_STATS, from Locust's own statistics: its CSV files are
flushed on a timer and missed the last seconds of a burst.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
import threading
from pathlib import Path

import gevent
from locust import HttpUser, constant, events, task

from bench.agency import section_markdown

HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
_PLAN = json.loads(Path(os.environ["REPORTFLOW_LOCUST_LINKS"]).read_text("utf-8"))
LINKS: dict[int, str] = {int(k): v for k, v in _PLAN["links"].items()}
WORD_FILES: dict[int, str] = {int(k): v for k, v in _PLAN["word_files"].items()}
"""Made before the run, so that Locust's own CPU goes to the requests."""
_numbers = itertools.count(1)
_lock = threading.Lock()
_finished = itertools.count(1)


class DivisionHead(HttpUser):
    """One head, one submission; then he waits idle (Locust would start another user in the place
    of one that stops) until the last head is done."""

    wait_time = constant(3600)

    def on_start(self) -> None:
        with _lock:
            self.index = next(_numbers)
        self.done = self.index not in LINKS
        if self.done:
            return
        self.path = LINKS[self.index].split("://", 1)[1].split("/", 1)[1]
        self.path = "/" + self.path
        self.word = Path(WORD_FILES[self.index]).read_bytes() if self.index in WORD_FILES else None

    @task
    def submit_once(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            self._submit()
        finally:
            if next(_finished) >= len(LINKS):
                # Not from this user's own greenlet: quitting stops every user, this one first.
                gevent.spawn(self.environment.runner.quit)

    def _submit(self) -> None:
        page = self.client.get(self.path, name="mở liên kết")
        fields = dict(HIDDEN.findall(page.text))
        if self.word:
            files = {
                "file": (
                    f"phan-{self.index}.docx",
                    self.word,
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                )
            }
            data = {"csrf": fields.get("csrf", ""), "markdown": ""}
        else:
            files = {"file": ("", b"")}
            data = {"csrf": fields.get("csrf", ""), "markdown": section_markdown(self.index)}
        with self.client.post(
            f"{self.path}/preview", data=data, files=files, name="xem trước", catch_response=True
        ) as preview:
            if 'id="confirm"' not in preview.text:
                preview.failure(f"preview refused ({preview.status_code})")
                return
        form = {name: html.unescape(value) for name, value in HIDDEN.findall(preview.text)}
        with self.client.post(
            f"{self.path}/confirm",
            data=form,
            files={"x": ("", b"")},
            name="gửi → biên nhận",
            catch_response=True,
        ) as receipt:
            if "/receipt/" not in str(receipt.url) or receipt.status_code != 200:
                receipt.failure(f"no receipt ({receipt.status_code})")


@events.quitting.add_listener
def _write_figures(environment, **_kwargs) -> None:
    figures = {
        name: {
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "p50_s": entry.get_response_time_percentile(0.5) / 1000,
            "p95_s": entry.get_response_time_percentile(0.95) / 1000,
        }
        for (name, _method), entry in environment.stats.entries.items()
    }
    Path(os.environ["REPORTFLOW_LOCUST_STATS"]).write_text(json.dumps(figures), "utf-8")


@events.init.add_listener
def _only_loopback(environment, **_kwargs) -> None:
    host = environment.host or ""
    if not host.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise SystemExit(f"web_locust drives 127.0.0.1 only, not {host!r}")
