"""Keys for the demo and trials: a CA of its own and PKCS#12 files it issues, every name
marked as a demo so that nobody takes a file they signed for an agency's document. A real
agency signs with the certificates a licensed CA (VGCA for state bodies) issued on its tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from reportflow.signatures.issued_pdf import SEAL_MM

DEMO_MARK = "THỬ NGHIỆM"
"""In every demo certificate's name: the verify lines and the stamp show it."""
KEY_BITS = 2048
SIGNING_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,  # nonRepudiation
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


@dataclass
class DemoCa:
    """A certification authority for trials; ``pem`` is what `verify --trust` takes."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    pem: Path

    @classmethod
    def create(cls, folder: Path, organisation: str) -> DemoCa:
        folder.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        name = _name(f"CA {DEMO_MARK} reportflow", organisation)
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        pem = folder / "ca-thu-nghiem.pem"
        pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(key, certificate, pem)

    def issue(
        self, common_name: str, organisation: str, valid_days: int = 730, begins_days_ago: int = 1
    ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """A signing key and its certificate (digitalSignature, nonRepudiation)."""
        return self._issue(common_name, organisation, valid_days, begins_days_ago, SIGNING_USAGE)

    def issue_timestamping(
        self, common_name: str, organisation: str
    ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """A timestamp authority's key and certificate (its one extended use: timeStamping)."""
        usage = x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING])
        return self._issue(common_name, organisation, 730, 1, usage)

    def _issue(
        self,
        common_name: str,
        organisation: str,
        valid_days: int,
        begins_days_ago: int,
        usage: x509.ExtensionType,
    ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        begins = dt.datetime.now(dt.UTC) - dt.timedelta(days=begins_days_ago)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organisation))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(begins)
            .not_valid_after(begins + dt.timedelta(days=valid_days))
            .add_extension(usage, critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return key, certificate

    def pkcs12_file(
        self, path: Path, common_name: str, organisation: str, password: str
    ) -> x509.Certificate:
        """A PKCS#12 file holding a new key and its certificate, under ``password``."""
        key, certificate = self.issue(common_name, organisation)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                common_name.encode(),
                key,
                certificate,
                [self.certificate],
                serialization.BestAvailableEncryption(password.encode()),
            )
        )
        path.chmod(0o600)
        return certificate


SANS_BOLD = Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf")


def demo_signature_png(path: Path, name: str) -> Path:
    """A blue handwritten-looking signature on a transparent background, for the demo signer."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    blue = (20, 40, 170, 255)
    points = [(40 + i * 9, 150 - 60 * ((i % 7) / 6) + 25 * ((i % 3) - 1)) for i in range(58)]
    draw.line(points, fill=blue, width=7, joint="curve")
    draw.line([(60, 190), (560, 160)], fill=blue, width=5)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def demo_seal_png(path: Path, agency: str) -> Path:
    """A red round seal at 300 dpi (its real size when drawn SEAL_MM wide), marked as a demo."""
    from PIL import Image, ImageDraw, ImageFont

    size = round(SEAL_MM / 25.4 * 300)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 20, 30, 235)
    draw.ellipse([4, 4, size - 4, size - 4], outline=red, width=14)
    draw.ellipse([70, 70, size - 70, size - 70], outline=red, width=6)
    font = ImageFont.truetype(str(SANS_BOLD), 38)
    words = agency.upper().split()
    lines = [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :]), DEMO_MARK]
    for number, line in enumerate(lines):
        draw.text((size / 2, size / 2 + (number - 1) * 56), line, fill=red, font=font, anchor="mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, dpi=(300, 300))
    return path
