"""Where a signing key is: a PKCS#11 token (a USB token, a smart card, an HSM, through its
vendor's module), a PKCS#12 file (the demo and trials), or the signer's own PC (he signs with his
usual software; only his certificate is configured, to check what he sends back). Its PIN or
password is a secret: read from an environment variable or a file, never from a parameter, a
form or a log."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from asn1crypto import pem, x509
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

from reportflow.core.errors import UserError


class KeyUnavailable(UserError):
    """The key cannot be used now (wrong PIN, no token, unreadable file); nothing was signed."""


OWN_PC = "certificate"


def load_certificate(path: Path) -> x509.Certificate:
    """A certificate file, PEM or DER, the first certificate in it."""
    try:
        data = path.read_bytes()
        der = pem.unarmor(data)[2] if pem.detect(data) else data
        return x509.Certificate.load(der)
    except OSError as exc:
        raise KeyUnavailable(f"Không đọc được tệp chứng thư {path} ({exc.strerror}).") from exc
    except ValueError as exc:
        raise KeyUnavailable(f"Tệp {path} không phải chứng thư số (.pem hoặc .cer).") from exc


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def holder_name(certificate: x509.Certificate) -> str:
    return certificate.subject.native.get("common_name") or certificate.subject.human_friendly


def check_signer_certificate(certificate: x509.Certificate, name: str, where: str) -> None:
    """Before anything is signed: the certificate is issued to the person and valid now (by
    this machine's clock, the time the signature will carry)."""
    if not is_holder(certificate, name):
        raise KeyUnavailable(
            f"Chứng thư số ở {where} cấp cho {holder_name(certificate)}, không phải {name}: "
            "dùng đúng thiết bị ký số của người ký, hoặc sửa REPORTFLOW_SIGNER_KEYS."
        )
    validity = certificate["tbs_certificate"]["validity"]
    begins, ends = validity["not_before"].native, validity["not_after"].native
    now = dt.datetime.now(dt.UTC)
    if not begins <= now <= ends:
        raise KeyUnavailable(
            f"Chứng thư số của {name} ở {where} chỉ có hiệu lực từ {begins:%d/%m/%Y} đến "
            f"{ends:%d/%m/%Y}; gia hạn hoặc cấp lại chứng thư rồi ký lại."
        )


def is_holder(certificate: x509.Certificate, name: str) -> bool:
    """The certificate is issued to the person: his name is in its common name (a CA writes
    "Nguyễn Văn A", sometimes with more after it)."""
    return _folded(name) in _folded(holder_name(certificate))


@dataclass(frozen=True)
class KeySpec:
    """``pkcs11:module=/usr/lib/…/libvendor.so;token=LABEL;key=LABEL`` or ``pkcs12:/path/key.p12``,
    with the secret in the environment variable ``pin_env`` or the file ``pin_file``; or
    ``certificate:/path/cert.pem``: the person signs on his own PC with this certificate."""

    kind: str
    module: str = ""
    token: str = ""
    key: str = ""
    path: str = ""
    pin_env: str = ""
    pin_file: str = ""

    @classmethod
    def parse(cls, text: str, pin_env: str = "", pin_file: str = "") -> KeySpec:
        kind, _, rest = text.strip().partition(":")
        if kind == "pkcs12" and rest:
            return cls("pkcs12", path=rest, pin_env=pin_env, pin_file=pin_file)
        if kind == OWN_PC and rest:
            return cls(OWN_PC, path=rest)
        if kind == "pkcs11":
            fields = dict(part.partition("=")[::2] for part in rest.split(";") if part)
            unknown = set(fields) - {"module", "token", "key"}
            if not unknown and fields.get("module") and fields.get("token"):
                return cls(
                    "pkcs11",
                    module=fields["module"],
                    token=fields["token"],
                    key=fields.get("key") or fields["token"],
                    pin_env=pin_env,
                    pin_file=pin_file,
                )
        raise UserError(
            f"Khóa ký số '{text[:80]}' không đúng dạng: dùng pkcs11:module=ĐƯỜNG_DẪN;token=NHÃN;"
            "key=NHÃN (thiết bị USB, thẻ, HSM), pkcs12:ĐƯỜNG_DẪN (tệp .p12) hoặc "
            "certificate:ĐƯỜNG_DẪN (chứng thư .pem của người ký trên máy riêng)."
        )

    @property
    def where(self) -> str:
        """The key's place, for messages (never the secret)."""
        if self.kind == "pkcs11":
            return f"token '{self.token}'"
        if self.kind == OWN_PC:
            return f"máy riêng của người ký (chứng thư {Path(self.path).name})"
        return f"tệp {Path(self.path).name}"

    @property
    def signs_on_own_pc(self) -> bool:
        return self.kind == OWN_PC

    def secret(self) -> str:
        if self.pin_env and os.environ.get(self.pin_env):
            return os.environ[self.pin_env]
        if self.pin_file:
            try:
                return Path(self.pin_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise KeyUnavailable(
                    f"Không đọc được tệp mã PIN {self.pin_file} ({exc.strerror}); kiểm tra "
                    "đường dẫn và quyền đọc."
                ) from exc
        raise KeyUnavailable(
            f"Chưa có mã PIN/mật khẩu cho khóa ở {self.where}: đặt biến môi trường "
            f"{self.pin_env or '(chưa khai)'} hoặc tệp PIN."
        )


@contextmanager
def open_signer(spec: KeySpec, signing_cert=None) -> Iterator[object]:
    """A pyHanko signer on the key; the token's session is closed afterwards. ``signing_cert``:
    the certificate, when the token holds only the key."""
    if spec.signs_on_own_pc:
        raise KeyUnavailable(
            f"Khóa của người ký ở {spec.where}: người ký tải bản cần ký về, ký rồi tải lên."
        )
    if spec.kind == "pkcs11" and not Path(spec.module).is_file():
        raise KeyUnavailable(
            f"Không có thư viện PKCS#11 {spec.module}: cài phần mềm của thiết bị ký số hoặc "
            "sửa đường dẫn 'module'."
        )
    secret = spec.secret()
    if spec.kind == "pkcs12":
        path = Path(spec.path)
        if not path.is_file():
            raise KeyUnavailable(f"Không có tệp khóa {path}; kiểm tra cấu hình khóa ký số.")
        signer = signers.SimpleSigner.load_pkcs12(path, passphrase=secret.encode())
        if signer is None:
            raise KeyUnavailable(
                f"Không mở được {spec.where}: sai mật khẩu hoặc tệp hỏng. Nhập lại mật khẩu."
            )
        yield signer
        return
    with _token_session(spec, secret) as session:
        try:
            yield PKCS11Signer(
                session,
                key_label=spec.key,
                cert_label=None if signing_cert else spec.key,
                signing_cert=signing_cert,
            )
        except (pkcs11.exceptions.PKCS11Error, SigningError) as exc:
            raise KeyUnavailable(
                f"Thiết bị ký số ({spec.where}) không trả lời khi đang ký (bị rút ra?); chưa ký "
                f"được gì. Cắm lại thiết bị rồi thử lại. ({exc})"
            ) from exc


@contextmanager
def _token_session(spec: KeySpec, secret: str) -> Iterator[object]:
    try:
        session = open_pkcs11_session(
            spec.module, token_criteria=TokenCriteria(label=spec.token), user_pin=secret
        )
    except pkcs11.exceptions.PinIncorrect as exc:
        raise KeyUnavailable(
            f"Sai mã PIN của {spec.where}. Nhập lại; thiết bị có thể khóa sau vài lần sai."
        ) from exc
    except pkcs11.exceptions.PinLocked as exc:
        raise KeyUnavailable(
            f"Mã PIN của {spec.where} đã bị khóa; liên hệ bộ phận cấp chứng thư số."
        ) from exc
    except Exception as exc:  # noqa: BLE001 - pyHanko says "no token" in its own error
        if "token" in str(exc).lower():
            raise KeyUnavailable(
                f"Không thấy {spec.where}: cắm thiết bị ký số vào máy rồi thử lại."
            ) from exc
        raise KeyUnavailable(f"Không mở được {spec.where}: {exc}") from exc
    try:
        yield session
    finally:
        with contextlib.suppress(pkcs11.exceptions.PKCS11Error):
            session.close()  # a token pulled out takes its session with it
