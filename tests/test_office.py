"""The warm LibreOffice `reportflow serve` keeps: real LibreOffice processes, real conversions, and
the instance killed with SIGKILL under a conversion's feet."""

from __future__ import annotations

import os
import subprocess
import threading

import pytest
from docx import Document
from pypdf import PdfReader

from reportflow.core.config import reload_settings
from reportflow.services import office
from reportflow.services.processes import kill_tree

TEXT = "Báo cáo tình hình thực hiện nhiệm vụ 6 tháng đầu năm 2020 của Sở Thông tin và Truyền thông"


@pytest.fixture
def data_dir(tmp_path, restore_environment):
    os.environ["REPORTFLOW_DATA_DIR"] = str(tmp_path / "data")
    reload_settings()
    return tmp_path / "data"


@pytest.fixture
def warm(data_dir):
    process = office.start_warm_office(data_dir / "office.log")
    yield process
    office.stop_warm_office(process)


def draft(tmp_path, name: str = "du-thao"):
    path = tmp_path / f"{name}.docx"
    document = Document()
    for _ in range(40):
        document.add_paragraph(TEXT)
    document.save(path)
    return path


def pdf_text(pdf) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)


class ColdStarts:
    """Watches /proc while it is open for a LibreOffice started with a throw-away profile."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ColdStarts:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(0.01):
            for entry in office.PROC.iterdir():
                try:
                    cmdline = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
                except OSError:
                    continue
                if b"soffice.bin" in cmdline and b"reportflow-soffice-" in cmdline:
                    self.seen.add(cmdline.replace(b"\0", b" ").decode())


def test_a_conversion_goes_through_the_warm_office_without_starting_another(warm, tmp_path):
    assert office.warm_profile() == office.office_dir() / "profile"
    with ColdStarts() as cold:
        converted = office.convert(draft(tmp_path), tmp_path / "pdf", "pdf", ".pdf")
    assert converted.warm and not cold.seen
    assert TEXT in pdf_text(converted.path)


def test_conversions_at_once_all_arrive_through_the_warm_office(warm, tmp_path):
    names = [f"du-thao-{i}" for i in range(4)]
    documents = [draft(tmp_path, name) for name in names]
    processes = [
        subprocess.Popen(
            [
                office.soffice_path(),
                f"-env:UserInstallation={office.warm_profile().as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(tmp_path / "pdf"),
                str(document),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for document in documents
    ]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0, 0]
    for name in names:
        assert TEXT in pdf_text(tmp_path / "pdf" / f"{name}.pdf")


def test_a_killed_warm_office_leaves_conversions_working(warm, tmp_path):
    kill_tree(warm)
    assert office.warm_profile() is None
    with ColdStarts() as cold:
        converted = office.convert(draft(tmp_path), tmp_path / "pdf", "pdf", ".pdf")
    assert not converted.warm and cold.seen
    assert TEXT in pdf_text(converted.path)


def test_a_pid_file_naming_another_process_is_no_warm_office(data_dir, tmp_path):
    (data_dir / "office").mkdir(parents=True)
    (data_dir / "office" / "warm.pid").write_text(str(os.getpid()))
    assert office.warm_profile() is None
    converted = office.convert(draft(tmp_path), tmp_path / "pdf", "pdf", ".pdf")
    assert not converted.warm and TEXT in pdf_text(converted.path)


def test_a_failed_conversion_is_never_taken_for_the_earlier_one(warm, tmp_path):
    """The earlier PDF stays as it was (a reader may hold it) and is not returned as new."""
    source = tmp_path / "hong.docx"
    source.write_bytes(b"PK\x03\x04 not a document")
    earlier = tmp_path / "pdf" / "hong.pdf"
    earlier.parent.mkdir()
    earlier.write_bytes(b"%PDF-1.4 from an earlier conversion")
    with pytest.raises(office.UserError, match="LibreOffice không chuyển được 'hong.docx'"):
        office.convert(source, tmp_path / "pdf", "pdf", ".pdf")
    # The warm instance that failed is taken out of use (serve starts a fresh one).
    assert warm.poll() is None and office.warm_profile() is None
    assert earlier.read_bytes() == b"%PDF-1.4 from an earlier conversion"
    assert [p.name for p in earlier.parent.iterdir()] == ["hong.pdf"]


def test_check_tells_whether_the_warm_office_runs(data_dir, tmp_path):
    from reportflow.runtime.health import _libreoffice

    assert "không chạy sẵn" in _libreoffice().detail
    process = office.start_warm_office(data_dir / "office.log")
    try:
        finding = _libreoffice()
        assert finding.severity == "ok" and "một bản đang chạy sẵn" in finding.detail
    finally:
        office.stop_warm_office(process)
    assert "không chạy sẵn" in _libreoffice().detail
