"""Prefect processes started by reportflow (workers, the server), and stopping them with every
process they started.

A process worker starts each flow run (`python -m prefect.engine`) in a session of its own, so
killing the worker's process group leaves its flow runs behind, orphaned. Stopping a worker
therefore walks its process tree (Linux `/proc`) and signals every group found in it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

PROC = Path("/proc")


def start_in_own_group(
    command: list[str], log_path: Path, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.Popen:
    """Starts `command` in a session (and process group) of its own, its output in `log_path`,
    so a Ctrl-C in the caller's terminal does not reach it and `stop_tree` can end it whole."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    process.log_path = log_path
    return process


def start_worker(
    pool: str,
    log_path: Path,
    env: Mapping[str, str],
    cwd: Path | None = None,
    name: str | None = None,
) -> subprocess.Popen:
    """A `prefect worker start --pool <pool>` process in its own process group."""
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool]
    if name:
        command += ["--name", name]
    return start_in_own_group(command, log_path, env, cwd)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a live process, None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, whatever session or group it moved to."""
    children: dict[int, list[int]] = {}
    for other in _all_pids():
        stat = _stat(other)
        if stat is not None:
            children.setdefault(stat[1], []).append(other)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {p for p in found if _alive(p)}


def _signal_groups(pids: Iterable[int], sig: int) -> None:
    """Sends `sig` once to each process: through its process group where that is not the
    caller's own (a second SIGTERM makes a Prefect worker give up its orderly shutdown)."""
    signalled = {os.getpgrp()}
    for pid in pids:
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group not in signalled:
                signalled.add(group)
                os.killpg(group, sig)
            elif group == os.getpgrp():
                os.kill(pid, sig)


def kill_tree(process: subprocess.Popen, timeout_s: float = 30) -> None:
    """SIGKILL to `process` and everything it started, as when the machine dies. The tree is
    frozen (SIGSTOP) first, so nothing it starts meanwhile escapes."""
    if process.poll() is not None:
        return
    frozen: set[int] = {process.pid}
    _signal_groups(frozen, signal.SIGSTOP)
    while new := descendants(process.pid) - frozen:
        _signal_groups(new, signal.SIGSTOP)
        frozen |= new
    _signal_groups(frozen, signal.SIGKILL)
    process.wait(timeout=timeout_s)
    _wait_gone(frozen, timeout_s)


def stop_tree(process: subprocess.Popen, grace_s: float = 10, timeout_s: float = 30) -> None:
    """SIGTERM to `process`'s group, so it stops in order; whatever of its tree is still there
    after `grace_s` (the worker's flow runs, which sit in sessions of their own) gets SIGKILL.
    A process that died already may have left its group behind (uvicorn's worker processes
    outlive a killed supervisor and keep its port): that group gets SIGKILL."""
    if process.poll() is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        return
    seen = descendants(process.pid)
    _signal_groups([process.pid], signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while process.poll() is None and time.monotonic() < deadline:
        seen |= descendants(process.pid)
        time.sleep(0.1)
    if process.poll() is None:
        kill_tree(process, timeout_s)
    for pid in list(seen):
        seen |= descendants(pid)
    left = {pid for pid in seen if _alive(pid)}
    if left:
        _signal_groups(left, signal.SIGKILL)
        _wait_gone(left, timeout_s)


def _wait_gone(pids: set[int], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def processes_with_environment(
    key: str, value: str, *, or_below: bool = False, exclude: Iterable[int] = ()
) -> dict[int, str]:
    """Live processes (pid → command line) whose environment has `key` equal to `value` (or,
    with `or_below`, to a path below it). Other users' processes cannot be read; skipped."""
    wanted = f"{key}={value}".encode()
    below = wanted.rstrip(b"/") + b"/"
    skip = set(exclude)
    found: dict[int, str] = {}
    for pid in _all_pids():
        if pid in skip or not _alive(pid):
            continue
        try:
            environ = (PROC / str(pid) / "environ").read_bytes().split(b"\0")
            cmdline = (PROC / str(pid) / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if any(v == wanted or (or_below and v.startswith(below)) for v in environ):
            found[pid] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def kill_pids(pids: Iterable[int], timeout_s: float = 10) -> None:
    """SIGKILL to each process and its group (a leftover found by `processes_with_environment`)."""
    pids = set(pids)
    _signal_groups(pids, signal.SIGKILL)
    _wait_gone(pids, timeout_s)
