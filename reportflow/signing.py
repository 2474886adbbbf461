"""The key that makes a stored approval-code hash useless to someone who can read the database."""

from __future__ import annotations

import hashlib
import os
import secrets

from reportflow.config import get_settings

KEY_FILE = "secret.key"


def signing_key() -> bytes:
    """`REPORTFLOW_SECRET_KEY`, or a random key created once (mode 0600) beside the data."""
    settings = get_settings()
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured.encode("utf-8")
    path = settings.data_dir / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()  # another process made it first
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


def key_id() -> str:
    """A public fingerprint of the signing key, to notice machines that do not share it."""
    return hashlib.sha256(b"reportflow-key-id:" + signing_key()).hexdigest()[:12]
