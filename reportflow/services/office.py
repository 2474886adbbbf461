"""LibreOffice conversions, through one warm instance per machine when `reportflow serve` keeps one.

A cold `soffice --convert-to` starts LibreOffice for one document (about 0.9 s for a draft on
the 2-core machine this was measured on). Given the profile of a LibreOffice that is already
running, `soffice` hands its request to that instance through LibreOffice's own single-instance
pipe and waits for the result (about 0.15 s). The warm instance keeps a small file open, or it
would quit after the first conversion handed to it.

A profile shared without a warm instance loses conversions (one `soffice` quits while another's
request is on its way to it), so a conversion uses the warm profile only while the instance
recorded in `office/warm.pid` runs with that profile, and falls back to a throw-away profile
whenever a conversion through it fails.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from docx import Document

from reportflow.core.config import get_settings
from reportflow.core.errors import UserError
from reportflow.services.processes import PROC, start_in_own_group, stop_tree

log = logging.getLogger(__name__)

WARM_TIMEOUT_S = 60
"""A conversion handed to the warm instance that takes longer falls back to a cold one."""


@dataclass(frozen=True)
class Converted:
    path: Path
    warm: bool
    """Whether the warm instance did it (else a LibreOffice started for this file alone)."""


def soffice_path() -> str:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise UserError(
            "Không tìm thấy LibreOffice (soffice). Cài: apt install libreoffice-writer-nogui "
            "fonts-liberation2 (phông có đủ chữ tiếng Việt), rồi chạy lại."
        )
    return soffice


def office_dir() -> Path:
    return (get_settings().data_dir / "office").resolve()


def _profile_url(profile: Path) -> str:
    return f"-env:UserInstallation={profile.resolve().as_uri()}"


def warm_pid() -> int | None:
    """The warm instance's process while it runs with its profile; None otherwise."""
    folder = office_dir()
    try:
        pid = int((folder / "warm.pid").read_text().strip())
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if _profile_url(folder / "profile").encode() in cmdline else None


def warm_profile() -> Path | None:
    """The warm instance's profile while that instance runs; None otherwise."""
    return office_dir() / "profile" if warm_pid() is not None else None


def retire_warm_office(pid: int) -> None:
    """Takes a warm instance that failed a conversion out of use (its pid file, if it still
    names it): conversions start their own LibreOffice until `serve` starts a fresh one."""
    pid_file = office_dir() / "warm.pid"
    with contextlib.suppress(OSError, ValueError):
        if int(pid_file.read_text().strip()) == pid:
            pid_file.unlink()


def convert(document: Path, out_dir: Path, target: str, suffix: str, timeout_s: int = 180):
    """`soffice --headless --convert-to <target>`: through the warm instance when there is one,
    else (or when that fails) with a throw-away profile, so runs never share or lock one. The
    file is converted beside its place and renamed into it: a reader (a director's download, a
    mail being attached) never sees half a file, nor an earlier one taken for this one."""
    soffice = soffice_path()
    out_dir.mkdir(parents=True, exist_ok=True)
    converted = out_dir / f"{document.stem}{suffix}"
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".soffice-") as staging:
        produced = Path(staging) / converted.name
        pid = warm_pid()
        if pid is not None:
            profile = office_dir() / "profile"
            try:
                warm_s = min(timeout_s, WARM_TIMEOUT_S)
                result = _run(soffice, profile, document, Path(staging), target, warm_s)
            except subprocess.TimeoutExpired:
                result = None
            if result is not None and result.returncode == 0 and produced.exists():
                os.replace(produced, converted)
                return Converted(converted, warm=True)
            log.warning("LibreOffice chạy sẵn không chuyển được %s; chạy riêng.", document.name)
            retire_warm_office(pid)
            produced.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="reportflow-soffice-") as throwaway:
            result = _run(soffice, Path(throwaway), document, Path(staging), target, timeout_s)
        if result.returncode != 0 or not produced.exists():
            raise UserError(
                f"LibreOffice không chuyển được '{document.name}' sang "
                f"{suffix.lstrip('.').upper()}: "
                f"{result.stderr.decode(errors='replace').strip()[:300]}"
            )
        os.replace(produced, converted)
    return Converted(converted, warm=False)


def _run(soffice: str, profile: Path, document: Path, out_dir: Path, target: str, timeout_s):
    command = [soffice, _profile_url(profile), "--headless", "--convert-to", target]
    command += ["--outdir", str(out_dir), str(document)]
    return subprocess.run(command, capture_output=True, timeout=timeout_s)


def start_warm_office(log_path: Path, timeout_s: float = 60) -> subprocess.Popen:
    """Starts the warm instance in a process group of its own and records it in `warm.pid` once
    a first conversion through it (a DOCX to PDF, which also loads those filters) succeeded."""
    folder = office_dir()
    (folder / "warm.pid").unlink(missing_ok=True)
    profile = folder / "profile"
    profile.mkdir(parents=True, exist_ok=True)
    keep_open = folder / "keep-open.txt"
    keep_open.write_text("", encoding="utf-8")
    keep_open.with_name(f".~lock.{keep_open.name}#").unlink(missing_ok=True)
    soffice = soffice_path()
    command = [soffice, _profile_url(profile), "--headless", "--norestore", "--nologo"]
    process = start_in_own_group([*command, "--nolockcheck", str(keep_open)], log_path, os.environ)
    try:
        _wait_until_open(process, keep_open, timeout_s)
        _probe(soffice, folder, profile, process, timeout_s)
    except BaseException:
        stop_tree(process, grace_s=2)
        raise
    (folder / "warm.pid").write_text(str(process.pid), encoding="utf-8")
    return process


def _wait_until_open(process: subprocess.Popen, keep_open: Path, timeout_s: float) -> None:
    """Until the instance holds its file open (LibreOffice's lock file beside it): a conversion
    handed to it before that would leave it with no document, and it would quit."""
    lock = keep_open.with_name(f".~lock.{keep_open.name}#")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _refuse_if_stopped(process)
        if lock.exists():
            return
        time.sleep(0.05)
    raise UserError(f"LibreOffice chạy sẵn chưa sẵn sàng sau {timeout_s:.0f} giây.")


def _probe(
    soffice: str, folder: Path, profile: Path, process: subprocess.Popen, timeout_s: float
) -> None:
    probe = folder / "probe" / "probe.docx"
    probe.parent.mkdir(exist_ok=True)
    Document().save(probe)
    deadline = time.monotonic() + timeout_s
    pdf = probe.with_suffix(".pdf")
    while time.monotonic() < deadline:
        _refuse_if_stopped(process)
        pdf.unlink(missing_ok=True)
        result = _run(soffice, profile, probe, probe.parent, "pdf", timeout_s)
        if result.returncode == 0 and pdf.exists() and process.poll() is None:
            return
        time.sleep(0.2)
    raise UserError(f"LibreOffice chạy sẵn không chuyển được tệp thử sau {timeout_s:.0f} giây.")


def _refuse_if_stopped(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        raise UserError(f"LibreOffice chạy sẵn đã dừng khi khởi động (mã {process.returncode}).")


def stop_warm_office(process: subprocess.Popen) -> None:
    (office_dir() / "warm.pid").unlink(missing_ok=True)
    stop_tree(process, grace_s=5)
