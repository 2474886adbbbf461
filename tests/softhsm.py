"""Real PKCS#11 tokens in software (SoftHSM2, Debian `softhsm2`) and a test CA made here: one
token for the signer, one for the agency, each holding its RSA-2048 key; the certificates carry
digitalSignature and nonRepudiation, as a Vietnamese CA issues them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "246810"
SO_PIN = "13579024"


@dataclass
class Token:
    label: str
    certificate: asn1_x509.Certificate
    pin_env: str


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, "Sở Thông tin và Truyền thông tỉnh Trà Vinh"
            ),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


class TestPki:
    """A CA, and certificates it issues; files under ``folder``."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.UTC)
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name("CA thử nghiệm reportflow"))
            .issuer_name(_name("CA thử nghiệm reportflow"))
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        self.ca_pem = folder / "ca.pem"
        self.ca_pem.write_bytes(self.ca_cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, common_name: str, days: int = 365, ago_days: int = 1):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=ago_days))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        return key, cert


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
    return Token(label, asn1_x509.Certificate.load(der), pin_env)


def key_uri(token: Token) -> str:
    return f"pkcs11:module={MODULE};token={token.label};key={token.label}"
