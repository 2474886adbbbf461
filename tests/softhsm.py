"""Real PKCS#11 tokens in software (SoftHSM2, Debian `softhsm2`) and a test CA made here: one
token for the signer, one for the agency, each holding its RSA-2048 key; the certificates carry
digitalSignature and nonRepudiation, as a Vietnamese CA issues them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from reportflow.signatures.demo_keys import DemoCa

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "246810"
SO_PIN = "13579024"


@dataclass
class Token:
    label: str
    certificate: asn1_x509.Certificate
    pin_env: str


AGENCY = "Sở Thông tin và Truyền thông tỉnh Trà Vinh"


def demo_ca(folder: Path) -> DemoCa:
    """The product's own demo CA, in the test's folder."""
    return DemoCa.create(folder, AGENCY)


def softhsm_environment(folder: Path) -> None:
    """Points SoftHSM2 at a token store of the test's own."""
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)


def make_token(folder: Path, label: str, key, cert, pin_env: str) -> Token:
    """A token named ``label`` holding ``key`` (imported with softhsm2-util), PIN in ``pin_env``."""
    util = ["softhsm2-util"]
    subprocess.run(
        [*util, "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
        check=True,
        capture_output=True,
    )
    pem_key = folder / f"{label}-key.pem"
    pem_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    subprocess.run(
        [
            *util,
            "--import",
            str(pem_key),
            "--token",
            label,
            "--label",
            label,
            "--id",
            "01",
            "--pin",
            PIN,
        ],
        check=True,
        capture_output=True,
    )
    pem_key.unlink()
    os.environ[pin_env] = PIN
    der = cert.public_bytes(serialization.Encoding.DER)
    _store_certificate(label, der, cert.subject.public_bytes(), folder)
    return Token(label, asn1_x509.Certificate.load(der), pin_env)


CERTIFICATE_IMPORT = """
import sys
import pkcs11
from pkcs11 import Attribute, CertificateType, ObjectClass

module, label, pin, der_path, subject_path = sys.argv[1:]
token = pkcs11.lib(module).get_token(token_label=label)
with token.open(rw=True, user_pin=pin) as session:
    session.create_object({
        Attribute.CLASS: ObjectClass.CERTIFICATE,
        Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
        Attribute.TOKEN: True,
        Attribute.LABEL: label,
        Attribute.ID: b"\\x01",
        Attribute.SUBJECT: open(subject_path, "rb").read(),
        Attribute.VALUE: open(der_path, "rb").read(),
    })
"""


def _store_certificate(label: str, der: bytes, subject: bytes, folder: Path) -> None:
    """The certificate beside its key, as a CA's token holds it (softhsm2-util imports keys
    only). In a process of its own: a PKCS#11 library sees only the tokens that existed when
    the process first loaded it."""
    (folder / f"{label}.der").write_bytes(der)
    (folder / f"{label}.subject").write_bytes(subject)
    subprocess.run(
        [sys.executable, "-c", CERTIFICATE_IMPORT, str(MODULE), label, PIN]
        + [str(folder / f"{label}.der"), str(folder / f"{label}.subject")],
        check=True,
        capture_output=True,
    )


def key_uri(token: Token) -> str:
    return f"pkcs11:module={MODULE};token={token.label};key={token.label}"
