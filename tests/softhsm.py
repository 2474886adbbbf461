"""Real PKCS#11 tokens in software (SoftHSM2, Debian `softhsm2`) and a test CA made here: one
token for the signer, one for the agency, each holding its RSA-2048 key; the certificates carry
digitalSignature and nonRepudiation, as a Vietnamese CA issues them."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from reportflow.signatures.demo_keys import DemoCa
from reportflow.signatures.issued_pdf import SIGNER_FIELD
from reportflow.signatures.keys import KeySpec, open_signer

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


OWN_PC_SIGNING = """
import sys
from pathlib import Path

from tests.softhsm import Token, own_pc_signature

prepared, label, pin_env, add_page, out = sys.argv[1:]
token = Token(label, None, pin_env)
Path(out).write_bytes(own_pc_signature(Path(prepared).read_bytes(), token, add_page == "1"))
"""


def sign_on_own_pc(prepared: bytes, token: Token, add_page: bool = False) -> bytes:
    """What the signer's own software does on his PC, in a process of its own (his PC; and a
    PKCS#11 library loaded here would not see tokens made after it)."""
    with tempfile.TemporaryDirectory(prefix="may-rieng-") as folder:
        source, signed = Path(folder) / "ban-can-ky.pdf", Path(folder) / "da-ky.pdf"
        source.write_bytes(prepared)
        subprocess.run(
            [sys.executable, "-c", OWN_PC_SIGNING, str(source), token.label, token.pin_env]
            + ["1" if add_page else "0", str(signed)],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        return signed.read_bytes()


def own_pc_signature(prepared: bytes, token: Token, add_page: bool = False) -> bytes:
    """An approval signature (not a certification) into the signer's field with his token, the
    certificate read from the token; ``add_page``: a page slipped in with it."""
    writer = IncrementalPdfFileWriter(BytesIO(prepared))
    if add_page:
        writer.insert_page(_blank_page(writer))
    meta = signers.PdfSignatureMetadata(field_name=SIGNER_FIELD, md_algorithm="sha256")
    spec = KeySpec.parse(key_uri(token), pin_env=token.pin_env)
    with open_signer(spec) as signer:
        out = BytesIO()
        signers.PdfSigner(meta, signer=signer).sign_pdf(writer, output=out)
    return out.getvalue()


def _blank_page(writer: IncrementalPdfFileWriter) -> generic.DictionaryObject:
    return generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/MediaBox"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (0, 0, 595, 842)]
            ),
            generic.NameObject("/Contents"): writer.add_object(
                generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 700 Td (Them) Tj ET")
            ),
        }
    )


def certificate_pem(token: Token, path: Path) -> Path:
    """The token's certificate as the file an agency's IT staff configures for the person."""
    path.write_bytes(asn1_pem.armor("CERTIFICATE", token.certificate.dump()))
    return path


PULLED_OUT = """
import subprocess
import sys
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PdfFileWriter

from reportflow.signatures.issued_pdf import Places, prepare, sign_as_signer
from reportflow.signatures.keys import KeySpec, KeyUnavailable, open_signer
from tests.softhsm import AGENCY, demo_ca, key_uri, make_token, softhsm_environment

folder = Path(sys.argv[1])
softhsm_environment(folder)
token = make_token(folder, "rutra", *demo_ca(folder / "pki").issue("Trần Văn Khoản", AGENCY), "PIN")
writer = PdfFileWriter()
writer.insert_page(generic.DictionaryObject({
    generic.NameObject("/Type"): generic.NameObject("/Page"),
    generic.NameObject("/MediaBox"): generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 595, 842)]),
}))
pdf = BytesIO()
writer.write(pdf)
places = Places(0, (340, 300, 520, 370), (300, 300, 420, 370), {})
try:
    with open_signer(KeySpec.parse(key_uri(token), pin_env="PIN")) as signer:
        subprocess.run(["softhsm2-util", "--delete-token", "--token", "rutra"], check=True, capture_output=True)
        sign_as_signer(prepare(pdf.getvalue(), places), signer, "Trần Văn Khoản")
    print("SIGNED")
except KeyUnavailable as exc:
    print(exc)
"""


def sign_with_the_token_pulled_out(folder: Path) -> str:
    """A token of its own, opened for signing, then removed (softhsm2-util deletes it) before the
    signature is made; what the signing says. In a process of its own, as `sign_on_own_pc`."""
    done = subprocess.run(
        [sys.executable, "-c", PULLED_OUT, str(folder)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
    )
    return done.stdout.strip() or done.stderr[-2000:]
