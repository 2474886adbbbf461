"""The key that makes a stored approval-code hash useless to someone who can read the database."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from reportflow.core.config import MIN_KEY_LENGTH, get_settings

KEY_FILE = "secret.key"


def signing_key() -> bytes:
    """`REPORTFLOW_SECRET_KEY`, or a random key created once (mode 0600) beside the data."""
    settings = get_settings()
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured.encode("utf-8")
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    key = path.read_bytes()
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"Tệp khóa {path} bị hỏng (quá ngắn); xóa tệp để tạo lại.")
    return key


def _create_key_file(path: Path) -> None:
    """Written whole under a temporary name, then linked into place: a reader never sees a
    half-written key, and when two processes race the first link wins and both use it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(MIN_KEY_LENGTH))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def key_id() -> str:
    """A public fingerprint of the signing key, to notice machines that do not share it."""
    return hashlib.sha256(b"reportflow-key-id:" + signing_key()).hexdigest()[:12]
