"""`reportflow register …`, `dispatch` and `export`: the register of outgoing documents and
the issued report."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reportflow.cli.output import console, err, fail
from reportflow.core.errors import UserError
from reportflow.core.vi_format import short_date as vn_date
from reportflow.models import init_db, session_scope

group = typer.Typer(help="Sổ đăng ký văn bản đi.", no_args_is_help=True)


@group.command("open")
def register_open(
    year: Annotated[int, typer.Option(help="Năm")],
    last_number: Annotated[int, typer.Option(help="Số văn bản đi cuối cùng đã dùng trong năm")],
) -> None:
    """Khai báo số cuối cùng đã dùng trong năm (khi bắt đầu dùng reportflow giữa năm)."""
    from reportflow.cycle.issuing.numbering import open_register
    from reportflow.definitions.loader import load_organisation

    init_db()
    open_register(load_organisation().issuing_body, year, last_number)
    console.print(f"Sổ văn bản đi năm {year}: số tiếp theo là {last_number + 1:02d}.")


@group.command("show")
def register_show(
    year: Annotated[int | None, typer.Option(help="Năm; bỏ trống: năm nay")] = None,
) -> None:
    """In sổ văn bản đi của một năm: số, ngày, trích yếu, người ký, nơi nhận, bản lưu, và mã
    SHA-256 của bản đã ký số."""
    from sqlmodel import select

    from reportflow.core.clock import today
    from reportflow.models import RegisterEntry

    init_db()
    year = year or today().year
    with session_scope() as session:
        entries = session.exec(
            select(RegisterEntry).where(RegisterEntry.year == year).order_by(RegisterEntry.number)
        ).all()
    if not entries:
        console.print(f"Sổ văn bản đi năm {year} chưa có văn bản nào.")
        return
    table = Table(title=f"Sổ văn bản đi năm {year}")
    for column in ("Số, ký hiệu", "Ngày", "Trích yếu", "Người ký", "Nơi nhận", "Bản lưu"):
        table.add_column(column, no_wrap=column in {"Số, ký hiệu", "Ngày"})
    for entry in entries:
        table.add_row(
            entry.number_text,
            vn_date(entry.issued_on),
            entry.summary,
            entry.signer,
            "; ".join(r.removeprefix("- ").rstrip(";.") for r in entry.recipients),
            entry.archive.removeprefix("Lưu:").strip().rstrip("."),
        )
    console.print(table)
    signed = [entry for entry in entries if entry.signed_sha256]
    if signed:
        console.print("Mã SHA-256 của bản điện tử đã ký số:", highlight=False)
        for entry in signed:
            console.print(f"  {entry.number_text}:\n    {entry.signed_sha256}", highlight=False)


def dispatch(cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")]) -> None:
    """Gửi lại báo cáo đã cấp số tới nơi nhận chưa nhận được (nơi đã nhận được bỏ qua)."""
    from reportflow.cycle.cycles import get_cycle
    from reportflow.cycle.issuing.dispatch import dispatch_report
    from reportflow.models import CycleState

    init_db()
    try:
        with session_scope() as session:
            state = CycleState(get_cycle(session, cycle_id).state)
        if state not in {CycleState.NUMBERED, CycleState.DISPATCHING, CycleState.DONE}:
            raise UserError(
                f"Kỳ báo cáo số {cycle_id} chưa được cấp số ({state.label_vi}); "
                "chỉ gửi được báo cáo đã phê duyệt và cấp số."
            )
        with console.status("Đang gửi báo cáo tới các nơi nhận…"):
            outcome = dispatch_report(cycle_id, max_attempts=None)
    except UserError as exc:
        fail(exc)
    for key in outcome.sent:
        console.print(f"  đã gửi: {key}")
    for key in outcome.already_sent:
        console.print(f"  đã nhận từ trước, bỏ qua: {key}")
    for key in outcome.failed:
        console.print(f"  [red]chưa gửi được:[/] {escape(key)}")
    for key in outcome.in_progress:
        console.print(
            f"  [yellow]đang được gửi ở nơi khác hoặc bị ngắt giữa chừng:[/] {escape(key)}"
        )
    for row in outcome.problems:
        reason = row.error or held_until(row.lease_until)
        console.print(
            f"    {row.recipient} · {row.channel}: {reason}", markup=False, highlight=False
        )
    if outcome.failed or outcome.in_progress:
        err.print("Một số nơi nhận chưa gửi được; kiểm tra máy chủ thư rồi chạy lại lệnh này.")
        raise typer.Exit(code=1)
    console.print(f"Kỳ báo cáo số {cycle_id}: mọi nơi nhận đã có báo cáo.")


def held_until(lease_until) -> str:
    from reportflow.notifications.messages import vn_datetime

    if lease_until is None:
        return "đang gửi"
    return f"một tiến trình khác đang giữ tin này; nếu nó đã dừng, chạy lại sau {vn_datetime(lease_until)}"


def export(
    cycle_id: Annotated[int | None, typer.Argument(help="Số kỳ báo cáo")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Xuất PDF qua LibreOffice")] = False,
    sample: Annotated[
        bool, typer.Option("--sample", help="Xuất báo cáo mẫu 859/BC-STTTT-VP từ dữ liệu demo")
    ] = False,
    out: Annotated[Path, typer.Option(help="Thư mục kết quả")] = Path("out/export"),
) -> None:
    """Xuất văn bản của kỳ báo cáo (bản chính thức, hoặc dự thảo mới nhất) ra .docx hoặc PDF."""

    from reportflow.cycle.pdf_export import convert_to_pdf, latest_document, pdf_page_count

    try:
        if sample:
            from reportflow.demo.sample import build_sample_document
            from reportflow.document.writing.render import render_report

            out.mkdir(parents=True, exist_ok=True)
            document = render_report(build_sample_document(), out / "859-BC-STTTT-VP.docx")
        elif cycle_id is not None:
            init_db()
            document = latest_document(cycle_id)
        else:
            raise UserError("Cần số kỳ báo cáo, hoặc --sample.")
        if pdf:
            with console.status(f"Đang chuyển {document.name} sang PDF bằng LibreOffice…"):
                target = convert_to_pdf(document, out)
            console.print(f"Đã xuất {target} ({pdf_page_count(target)} trang).")
        else:
            out.mkdir(parents=True, exist_ok=True)
            target = out / document.name
            if target.resolve() != document.resolve():
                shutil.copyfile(document, target)
            console.print(f"Đã xuất {target}.")
    except UserError as exc:
        fail(exc)


def verify(
    file: Annotated[Path, typer.Argument(help="Tệp PDF cần kiểm tra", metavar="TỆP.pdf")],
    trust: Annotated[
        list[Path] | None,
        typer.Option(help="Chứng thư gốc tin cậy, có thể nêu nhiều lần", metavar="CA.pem"),
    ] = None,
) -> None:
    """Kiểm tra chữ ký số của văn bản điện tử theo Nghị định 30/2020: mỗi chữ ký một dòng, rồi
    kết luận. Mã thoát 0 chỉ khi đạt mọi yêu cầu."""
    from reportflow.signatures.verification import MAX_PDF_BYTES, verify_pdf

    try:
        if not file.is_file():
            raise UserError(f"Không có tệp {file}.")
        if file.stat().st_size > MAX_PDF_BYTES:
            raise UserError(f"Tệp lớn quá {MAX_PDF_BYTES // 1_000_000} MB; không kiểm tra.")
        for root in trust or []:
            if not root.is_file():
                raise UserError(f"Không có tệp chứng thư gốc {root}.")
        verdict = verify_pdf(file.read_bytes(), list(trust or []))
    except UserError as exc:
        fail(exc)
    for number, finding in enumerate(verdict.findings, start=1):
        console.print(f"{number}. {escape(finding.line())}", highlight=False)
    if verdict.passes:
        console.print(
            "[bold green]Đạt:[/] có chữ ký của người có thẩm quyền, sau đó chỉ điền số, ngày và "
            "chữ ký của cơ quan bao trùm toàn bộ tệp; hai chứng thư khác nhau, đều tin cậy.",
            highlight=False,
        )
        return
    console.print("[bold red]Không đạt:[/]", highlight=False)
    for problem in verdict.problems:
        console.print(f"- {escape(problem)}", highlight=False)
    raise typer.Exit(code=1)


signing = typer.Typer(help="Ký số văn bản phát hành.", no_args_is_help=True)


@signing.command("retry")
def sign_retry(cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")]) -> None:
    """Ký lại khi kỳ báo cáo đang "chờ ký số" (đã cắm thiết bị ký số hoặc sửa mã PIN)."""
    from reportflow.cycle.cycles import get_cycle
    from reportflow.cycle.wake import release_signature_wait
    from reportflow.models import CycleState

    init_db()
    with session_scope() as session:
        state = CycleState(get_cycle(session, cycle_id).state)
    if state != CycleState.AWAITING_SIGNATURE:
        fail(UserError(f"Kỳ báo cáo số {cycle_id} không chờ ký số ({state.label_vi})."))
    if not release_signature_wait(cycle_id):
        fail(
            UserError(
                f"Quy trình của kỳ báo cáo số {cycle_id} chưa ở bước chờ ký số; thử lại sau ít "
                "phút (reportflow check cho biết quy trình còn chạy không)."
            )
        )
    console.print(f"Kỳ báo cáo số {cycle_id}: đang ký lại; xem tiến độ bằng reportflow status.")


@signing.command("download")
def sign_download(
    cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")],
    out: Annotated[
        Path | None, typer.Option(help="Lưu vào tệp này; bỏ trống: ban-can-ky-<số kỳ>.pdf")
    ] = None,
) -> None:
    """Lấy bản cần ký (PDF, số và ngày để trống) cho người ký ký số trên máy của mình."""
    from reportflow.cycle.issuing.signing import file_to_sign

    init_db()
    target = out or Path(f"ban-can-ky-{cycle_id}.pdf")
    try:
        source = file_to_sign(cycle_id)
    except UserError as exc:
        fail(exc)
    shutil.copyfile(source, target)
    console.print(
        f"Đã lưu bản cần ký: {target}. Ký số bằng phần mềm quen dùng (ô chữ ký của người có "
        f"thẩm quyền), rồi gửi lại: reportflow sign upload {cycle_id} TỆP_ĐÃ_KÝ.pdf",
        highlight=False,
    )


@signing.command("upload")
def sign_upload(
    cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")],
    file: Annotated[Path, typer.Argument(help="Tệp PDF đã ký", metavar="TỆP.pdf")],
) -> None:
    """Gửi lại bản đã ký số trên máy của người ký; chỉ nhận đúng bản cần ký thêm một chữ ký của
    người ký, bằng chứng thư đã khai báo cho người đó."""
    from reportflow.cycle.issuing.signing import take_signed_file
    from reportflow.signatures.verification import MAX_PDF_BYTES

    init_db()
    try:
        if not file.is_file():
            raise UserError(f"Không có tệp {file}.")
        if file.stat().st_size > MAX_PDF_BYTES:
            raise UserError(f"Tệp lớn quá {MAX_PDF_BYTES // 1_000_000} MB; không nhận.")
        signer, woken = take_signed_file(cycle_id, file.read_bytes(), None, "cli")
    except UserError as exc:
        fail(exc)
    then = "quy trình đang cấp số và đóng dấu số" if woken else "lần quét tới sẽ chạy tiếp"
    console.print(
        f"Đã nhận bản ký số của {signer} cho kỳ báo cáo số {cycle_id}; {then}.", highlight=False
    )
