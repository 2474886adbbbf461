"""The issued report's PDF through its three steps, in the decree's order (ND 30/2020 Điều 13,
15; TT 01/2019 Điều 11): the signer's certification signature, then the number and date filled
into their fields, then the agency's signature over the whole file.

Every field exists before the first signature: after a certification signature pyHanko (and
every PAdES validator) treats a new visible field as a change the signer did not allow, while
filling an existing one is allowed (DocMDP level 2, form filling)."""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko import stamp
from pyhanko.pdf_utils import generic, images, layout, text
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.generic import NameObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter

from reportflow.core.config import get_settings

SIGNER_FIELD = "ChuKyNguoiKy"
AGENCY_FIELD = "ChuKyCoQuan"
NUMBER_FIELD = "SoVanBan"
DAY_FIELD = "Ngay"
MONTH_FIELD = "Thang"
FONTS = Path("/usr/share/fonts/truetype/liberation2")
SERIF = FONTS / "LiberationSerif-Regular.ttf"
"""Times New Roman's metric twin, with every Vietnamese letter; embedded (a subset) wherever
text is drawn, so the diacritics show in any reader."""
SERIF_ITALIC = FONTS / "LiberationSerif-Italic.ttf"
"""The place and date line is italic (Decree 30, Phụ lục I)."""
ITALIC_FIELDS = {DAY_FIELD, MONTH_FIELD}
PDF_EM = 1000
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # "FFTM NOT subset" on every stamp


def serif_font(source: Path = SERIF) -> Path:
    """The font scaled to 1,000 units per em, made once in the data folder: pyHanko writes a
    TrueType font's glyph widths in its own units, which PDF reads as thousandths of an em, so
    Liberation's 2,048-unit original comes out letter-spaced."""
    target = get_settings().data_dir / "fonts" / f"{source.stem}-{PDF_EM}.ttf"
    if not target.exists():
        font = TTFont(source)
        scale_upem(font, PDF_EM)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        font.save(partial)
        partial.replace(target)
    return target


Box = tuple[float, float, float, float]
"""x1, y1, x2, y2 in PDF points from the page's lower left corner."""
SEAL_MM = 36.0
"""A provincial department's seal is about 36 mm across (Nghị định 99/2016, its models); the
agency's signature shows it at that size."""
SEAL_PT = SEAL_MM * 72 / 25.4
FIELD_PADDING = 4
SIGNATURES_EXIST, APPEND_ONLY = 1, 2
"""The form's /SigFlags as a signature leaves them, set when the file is prepared: a signer's
own software sets them as it signs, and pyHanko's review of that revision takes any other
change to the form dictionary for a suspicious one."""
"""A text field is its font size plus this high, the text drawn at that size."""


@dataclass(frozen=True)
class Places:
    """Where the fields go: the signature block's page and boxes, and the text fields of the
    first page (the number, the day, the month: the blanks a signed paper leaves)."""

    signature_page: int
    signer_box: Box
    agency_box: Box
    text_boxes: dict[str, Box]

    @classmethod
    def around_signature(
        cls, page: int, signer_box: Box, seal_pt: float, text_boxes: dict[str, Box]
    ) -> Places:
        """The agency's box the seal's real size, over the left third of the signer's image
        (as a paper seal covers a third of the signature, Điều 33)."""
        x1, y1, x2, y2 = signer_box
        right = x1 + (x2 - x1) / 3
        middle = (y1 + y2) / 2
        agency = (right - seal_pt, middle - seal_pt / 2, right, middle + seal_pt / 2)
        return cls(page, signer_box, agency, text_boxes)


def _text_field(writer: IncrementalPdfFileWriter, name: str, page: int, box: Box) -> None:
    page_ref = writer.find_page_for_modification(page)[0]
    field = generic.DictionaryObject(
        {
            NameObject("/FT"): NameObject("/Tx"),
            NameObject("/T"): generic.TextStringObject(name),
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in box),
            NameObject("/F"): generic.NumberObject(4),
            NameObject("/Ff"): generic.NumberObject(1),  # read-only for a person
            NameObject("/P"): page_ref,
            NameObject("/DA"): generic.TextStringObject("/Helv 13 Tf 0 g"),
            NameObject("/V"): generic.TextStringObject(""),
        }
    )
    ref = writer.add_object(field)
    page_dict = page_ref.get_object()
    annots = page_dict.get("/Annots")
    if annots is None:
        page_dict[NameObject("/Annots")] = generic.ArrayObject([ref])
    else:
        annots.get_object().append(ref)
    writer.update_container(page_dict)
    form = writer.root.get("/AcroForm")
    form.get_object()["/Fields"].append(ref)
    writer.update_container(form.get_object())


def prepare(pdf: bytes, places: Places) -> bytes:
    """The rendered report with its empty fields: the two signatures, the number and the date."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    for name, box in ((SIGNER_FIELD, places.signer_box), (AGENCY_FIELD, places.agency_box)):
        fields.append_signature_field(
            writer, SigFieldSpec(name, on_page=places.signature_page, box=box)
        )
    for name, box in places.text_boxes.items():
        _text_field(writer, name, 0, box)
    form = writer.root["/AcroForm"]
    form[NameObject("/SigFlags")] = generic.NumberObject(SIGNATURES_EXIST | APPEND_ONLY)
    writer.update_container(form)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _serif(size: float, fit: bool = False, italic: bool = False) -> text.TextBoxStyle:
    """Liberation Serif; ``fit``: the text sits in its field's box with no margin (a field is
    one line high)."""
    rule = (
        layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(0, 0, 0, 0),
        )
        if fit
        else None
    )
    return text.TextBoxStyle(
        font=GlyphAccumulatorFactory(str(serif_font()), font_size=size),
        font_size=size,
        box_layout_rule=rule,
    )


def sign_as_signer(
    pdf: bytes, signer: signers.Signer, name: str, image: Path | None = None, timestamper=None
) -> bytes:
    """The signer's certification signature: SHA-256, PAdES, allowing form filling (the number
    and the date) and later signatures (the agency's); his signature image in the box."""
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNER_FIELD,
        certify=True,
        docmdp_permissions=MDPPerm.FILL_FORMS,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        name=name,
    )
    style = stamp.TextStampStyle(
        stamp_text=" ",
        text_box_style=_serif(10),
        border_width=0,
        background=images.PdfImage(str(image)) if image else None,
        background_opacity=1,
    )
    return _sign(pdf, meta, signer, style, timestamper)


def fill_number(pdf: bytes, values: dict[str, str]) -> bytes:
    """The register's number and date, filled into their fields in an incremental update (the
    change the signer's signature allows): field name → text."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    for name, value in values.items():
        field_ref = next(
            ref for ref in writer.root["/AcroForm"]["/Fields"] if ref.get_object().get("/T") == name
        )
        field = field_ref.get_object()
        x1, y1, x2, y2 = (float(v) for v in field["/Rect"])
        box = text.TextBox(
            _serif(round(y2 - y1 - FIELD_PADDING, 1), fit=True, italic=name in ITALIC_FIELDS),
            box=layout.BoxConstraints(width=x2 - x1, height=y2 - y1),
            writer=writer,
        )
        box.content = value
        appearance = writer.add_object(box.as_form_xobject())
        field[NameObject("/V")] = generic.TextStringObject(value)
        field[NameObject("/AP")] = generic.DictionaryObject({NameObject("/N"): appearance})
        writer.update_container(field)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def sign_as_agency(
    pdf: bytes,
    signer: signers.Signer,
    agency_name: str,
    signed_at: dt.datetime,
    seal: Path | None = None,
    timestamper=None,
) -> bytes:
    """The agency's signature, last, over the whole file: its name and the signing time in ISO
    8601 with the Vietnam offset, in Liberation Serif 10, over the seal's image."""
    meta = signers.PdfSignatureMetadata(
        field_name=AGENCY_FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        name=agency_name,
    )
    style = stamp.TextStampStyle(
        stamp_text=f"{agency_name}\n{signed_at.isoformat(timespec='seconds')}",
        text_box_style=_serif(10),
        border_width=0,
        background=images.PdfImage(str(seal)) if seal else None,
        background_opacity=1,
    )
    return _sign(pdf, meta, signer, style, timestamper, signed_at)


def _sign(pdf, meta, signer, style, timestamper, signed_at=None) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style, timestamper=timestamper)
    out = BytesIO()
    pdf_signer.sign_pdf(writer, output=out, appearance_text_params=None)
    return out.getvalue()


def field_values(pdf: bytes) -> dict[str, str]:
    """The text fields' values (the number and the date once filled)."""
    reader = PdfFileReader(BytesIO(pdf))
    form = reader.root.get_value_as_reference("/AcroForm", optional=True)
    found = {}
    for ref in form.get_object()["/Fields"] if form else []:
        field = ref.get_object()
        if field.get("/FT") == "/Tx":
            found[str(field.get("/T"))] = str(field.get("/V", ""))
    return found
