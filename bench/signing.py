"""Signing bench: the sample report's PDF through both digital signatures (the signer's
certification, the number filled in, the agency's) and `verify`, with demo PKCS#12 keys,
against the PDF conversion of the same report (a LibreOffice started for the file) as the
baseline measured in the same run."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.documents import sample_report
from bench.harness import patched_environment
from bench.results import Row
from reportflow.core.clock import VN_TZ
from reportflow.document.writing.render import render_report_bytes
from reportflow.services import office
from reportflow.signatures.demo_keys import DemoCa
from reportflow.signatures.issued_pdf import (
    NUMBER_FIELD,
    Places,
    fill_number,
    prepare,
    sign_as_agency,
    sign_as_signer,
)
from reportflow.signatures.keys import KeySpec, open_signer
from reportflow.signatures.verification import verify_pdf

GOAL_S = 1.0
RUNS = 5
AGENCY = "Sở Thông tin và Truyền thông tỉnh Trà Vinh"
PLACES = Places(0, (340, 120, 520, 190), (300, 120, 420, 190), {NUMBER_FIELD: (95, 742, 200, 759)})


def run(runs: int = RUNS) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="reportflow-bench-signing-") as tmp:
        folder = Path(tmp)
        docx = folder / "bao-cao.docx"
        docx.write_bytes(render_report_bytes(sample_report()))
        with patched_environment(
            REPORTFLOW_DATA_DIR=str(folder / "data"), BENCH_KEY_PASSWORD="mat-khau-thu"
        ):
            began = time.perf_counter()
            pdf = office.convert(docx, folder, "pdf", ".pdf").path.read_bytes()
            convert_s = time.perf_counter() - began
            ca = DemoCa.create(folder / "pki", AGENCY)
            for name in ("signer", "agency"):
                ca.pkcs12_file(
                    folder / f"{name}.p12",
                    f"{name} (THỬ NGHIỆM)",
                    AGENCY,
                    os.environ["BENCH_KEY_PASSWORD"],
                )
            signer_key = KeySpec.parse(
                f"pkcs12:{folder / 'signer.p12'}", pin_env="BENCH_KEY_PASSWORD"
            )
            agency_key = KeySpec.parse(
                f"pkcs12:{folder / 'agency.p12'}", pin_env="BENCH_KEY_PASSWORD"
            )
            sign_times, verify_times = [], []
            for _ in range(runs + 1):  # the first run makes the font once; not counted
                began = time.perf_counter()
                prepared = prepare(pdf, PLACES)
                with open_signer(signer_key) as signer:
                    signed = sign_as_signer(prepared, signer, "Trần Văn Khoản")
                numbered = fill_number(signed, {NUMBER_FIELD: "01/BC-STTTT-VP"})
                with open_signer(agency_key) as signer:
                    final = sign_as_agency(numbered, signer, AGENCY, dt.datetime.now(VN_TZ))
                signed_s = time.perf_counter() - began
                verdict = verify_pdf(final, [ca.pem])
                verify_times.append(time.perf_counter() - began - signed_s)
                sign_times.append(signed_s)
                assert verdict.passes, verdict.problems
    sign_s = statistics.median(sign_times[1:])
    verify_s = statistics.median(verify_times[1:])
    print(f"\nThe sample report signed twice and verified (median of {runs}, demo PKCS#12 keys)")
    print(f"  {'both signatures + number':<30} {sign_s:7.3f} s")
    print(f"  {'verify':<30} {verify_s:7.3f} s")
    print(f"  {'PDF conversion (baseline)':<30} {convert_s:7.3f} s")
    print(f"  {'ratio signing/conversion':<30} {sign_s / convert_s:7.2f} ×")
    return [
        Row(
            id="G1",
            figure=f"the sample report's PDF: both signatures and the number, then verify (median of {runs}, PKCS#12 keys; verify {verify_s:.3f} s)",
            goal=f"≤ {GOAL_S:g} s for both signatures",
            measured=sign_s,
            unit="s",
            baseline=convert_s,
            baseline_label="the same report to PDF, LibreOffice started for the file",
            meets_goal=sign_s <= GOAL_S,
        )
    ]
