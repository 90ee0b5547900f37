"""Result documents of a case: the decision notice (决定书 / 通知书) as a PDF.

The notice is issued once, inside the transaction of the decision (``case_approve``,
``case_reject``, ``case_refuse``), and stored as a ``CaseMaterial(kind=result)`` with its
SHA-256; the applicant downloads exactly the bytes that were issued, never a re-rendering
(ADR 0007). Which notice a decision gets:

    licence (事项类型 01)   approve → 准予行政许可决定书   reject → 不予行政许可决定书
    any other matter        approve → 办结通知书           reject → 不予办理通知书
    any matter              refuse  → 不予受理通知书

The text of a notice is Chinese whatever the reader's language: it is the document of
record of an administrative decision, so its wording lives here and not in the
translation catalog.

Fonts: a TrueType CJK font is embedded (subset) when one is configured
(``YIWANG_PDF_FONT``) or found in a well-known place; otherwise, and for any character
the embedded font lacks, the built-in Adobe CID font STSong-Light is used. A character
that neither can show is printed as its code point, never as an empty box.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import logging
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib import textsplit as rl_textsplit
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import paragraph as rl_paragraph

from yiwang.core import policies
from yiwang.core.audit import audit_log
from yiwang.core.models.org import OrgKind
from yiwang.core.sequences import next_value

from .models import Case, CaseEvent, CaseMaterial, CaseMaterialKind, MatterType

logger = logging.getLogger(__name__)

DECISIONS = ("approve", "reject", "refuse")
# Stored file names of issued notices start with this (original names are for people).
NOTICE_FILE_PREFIX = "decision-notice-"


# --- what a notice says -------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeType:
    code: str
    title: str
    word: str           # the 字 of the document number: 许准字〔2026〕第000001号
    decision: str       # the operative sentence, after the legal basis
    statute: str        # the article of the Administrative Licensing Law it applies


NOTICE_TYPES = {
    t.code: t for t in [
        NoticeType("license_approved", "准予行政许可决定书", "许准字",
                   "本机关决定准予行政许可", "《中华人民共和国行政许可法》第三十八条第一款"),
        NoticeType("license_rejected", "不予行政许可决定书", "许不字",
                   "本机关决定不予行政许可", "《中华人民共和国行政许可法》第三十八条第二款"),
        NoticeType("approved", "办结通知书", "办结字", "本机关决定予以办理，现已办结", ""),
        NoticeType("rejected", "不予办理通知书", "不办字", "本机关决定不予办理", ""),
        NoticeType("refused", "不予受理通知书", "不受字",
                   "本机关决定不予受理", "《中华人民共和国行政许可法》第三十二条第一款"),
    ]
}


@dataclass(frozen=True)
class Notice:
    """Everything a notice shows; its digest is printed on it for verification."""

    kind: str
    title: str
    document_number: str
    department: str
    applicant: str
    id_label: str
    id_value: str
    matter: str
    case_number: str
    submitted_on: str
    decided_on: str
    paragraphs: tuple[str, ...]
    remedy: str
    salutation: str
    facts: tuple[tuple[str, str], ...] = field(default=())

    @property
    def digest(self) -> str:
        """SHA-256 of the notice's content (canonical JSON of the fields above)."""
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True,
                             separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()


CN_DIGITS = "〇一二三四五六七八九"


def chinese_number(value: int) -> str:
    """1 → 一, 10 → 十, 22 → 二十二, 31 → 三十一 (months and days)."""
    tens, ones = divmod(value, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones or not head else "")


def chinese_date(day: dt.date) -> str:
    """二〇二六年十一月二十二日, as dates are written on official documents."""
    year = "".join(CN_DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{chinese_number(day.month)}月{chinese_number(day.day)}日"


def _local_date(at: dt.datetime | None) -> dt.date:
    return timezone.localtime(at or timezone.now()).date()


def _sentence(text: str) -> str:
    """User text as one clause: trimmed, without its final full stop."""
    return " ".join(text.split()).rstrip("。.；;，, ")


def notice_type_for(case: Case, decision: str) -> NoticeType:
    if decision == "refuse":
        return NOTICE_TYPES["refused"]
    licence = case.version.matter_type == MatterType.LICENSE
    approved = decision == "approve"
    code = ("license_" if licence else "") + ("approved" if approved else "rejected")
    return NOTICE_TYPES[code]


def _decision_event(case: Case) -> CaseEvent | None:
    return (CaseEvent.objects.filter(case=case, action__in=DECISIONS)
            .order_by("-at", "-id").first())


def _review_body(case: Case) -> str:
    """复议机关: for a district department, the district's people's government."""
    configured = getattr(settings, "YIWANG_NOTICE_REVIEW_BODY", "")
    if configured:
        return str(configured)
    units = [*case.department.ancestors(), case.department]
    district = next((u for u in units if u.kind == OrgKind.DISTRICT), None)
    return f"{district.name}人民政府" if district is not None else "本级人民政府"


def _legal_basis(case: Case, kind: NoticeType) -> str:
    """What the decision rests on: the matter's own basis and, for a licence, the article
    of the Administrative Licensing Law (a refusal to accept rests on that alone)."""
    matter_basis = _sentence(case.version.legal_basis)
    licence = case.version.matter_type == MatterType.LICENSE
    if kind.code == "refused":
        return kind.statute if licence else (matter_basis or "有关规定")
    if kind.statute:
        return f"{matter_basis}和{kind.statute}" if matter_basis else kind.statute
    return matter_basis or "有关法律、法规和规章"


def _document_number(case: Case, kind: NoticeType, on: dt.date) -> str:
    """住建许准字〔2026〕第000001号: the department's running number per kind and year."""
    unit = case.department
    prefix = (unit.short_name or unit.name).removesuffix("局")
    serial = next_value(f"notice:{unit.code}:{kind.word}", str(on.year))  # ≤ 40 chars
    return f"{prefix}{kind.word}〔{on.year}〕第{serial:06d}号"


def _applicant_identity(case: Case) -> tuple[str, str]:
    """The applicant's ID as shown on screen: a citizen's ID number masked (DESIGN.md),
    an enterprise's unified social credit code (public) in full."""
    applicant = case.applicant
    if getattr(applicant, "kind", "") == "enterprise":
        return "统一社会信用代码", applicant.credit_code or "—"
    return "公民身份号码", applicant.masked_id_number or "—"


def build_notice(case: Case, *, decision: str, reason: str,
                 decided_at: dt.datetime | None) -> Notice:
    """The content of the notice for a decision on ``case``; draws its document number."""
    kind = notice_type_for(case, decision)
    version = case.version
    decided_on = _local_date(decided_at)
    number = _document_number(case, kind, decided_on)
    you = "你单位" if getattr(case.applicant, "kind", "") == "enterprise" else "你"
    submitted = chinese_date(_local_date(case.submitted_at or case.created_at))
    matter = version.name
    basis = _legal_basis(case, kind)
    reason = _sentence(reason)
    filed = f"{you}于{submitted}提出的{matter}申请（办件编号：{case.number}）"
    paragraphs: list[str]
    if kind.code == "refused":
        paragraphs = [f"{filed}，经审查，不符合受理条件，理由如下：{reason}。"
                      f"根据{basis}的规定，{kind.decision}。"]
    elif decision == "approve":
        check = "符合法定条件、标准" if kind.code == "license_approved" else "符合规定"
        paragraphs = [f"{filed}，本机关已依法受理。经审查，{you}的申请{check}。"
                      f"根据{basis}的规定，{kind.decision}。"]
        if reason:
            paragraphs.append(f"审查意见：{reason}。")
        if version.result_name:
            label = "许可结果" if kind.code == "license_approved" else "办理结果"
            paragraphs.append(f"{label}：{_sentence(version.result_name)}。")
        # MatterVersion has no validity field yet; one named result_validity is used
        # as soon as the catalog records it.
        validity = _sentence(str(getattr(version, "result_validity", "") or ""))
        if validity:
            paragraphs.append(f"有效期限：{validity}。")
        elif version.result_name:
            paragraphs.append(f"本决定自作出之日起生效，{_sentence(version.result_name)}"
                              "的有效期限以证载期限为准。")
        else:
            paragraphs.append("本决定自作出之日起生效。")
    else:
        check = "不符合法定条件、标准" if kind.code == "license_rejected" else "不符合规定"
        paragraphs = [f"{filed}，本机关已依法受理。经审查，{you}的申请{check}，"
                      f"理由如下：{reason}。根据{basis}的规定，{kind.decision}。"]
    document = "本通知书" if kind.title.endswith("通知书") else "本决定书"
    remedy = (f"如不服本决定，可以自收到{document}之日起六十日内向{_review_body(case)}"
              f"申请行政复议，或者自收到{document}之日起六个月内依法向人民法院提起行政诉讼。")
    id_label, id_value = _applicant_identity(case)
    facts = (("申请人", case.applicant_name), (id_label, id_value), ("申请事项", matter),
             ("办件编号", case.number), ("申请日期", submitted))
    return Notice(kind=kind.code, title=kind.title, document_number=number,
                  department=case.department.name, applicant=case.applicant_name,
                  id_label=id_label, id_value=id_value, matter=matter,
                  case_number=case.number, submitted_on=submitted,
                  decided_on=chinese_date(decided_on), paragraphs=tuple(paragraphs),
                  remedy=remedy, salutation=f"{case.applicant_name}：", facts=facts)


# --- fonts --------------------------------------------------------------------------------

CID_FONT = "STSong-Light"  # Adobe-GB1, built into every CJK-capable PDF viewer
# TrueType CJK fonts that reportlab can embed, Song (明体) first as official documents use
# it. OpenType/CFF fonts (Noto/Source Han CJK) cannot be embedded by reportlab.
WELL_KNOWN_FONTS = (
    "/usr/share/fonts/truetype/arphic/uming.ttc",            # Debian/Ubuntu fonts-arphic-uming
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",  # fonts-arphic-gbsn00lp
    "/usr/share/fonts/cjkuni-uming/uming.ttc",                # Fedora cjkuni-uming-fonts
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",          # fonts-wqy-zenhei
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",            # Fedora wqy-zenhei-fonts
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",        # fonts-wqy-microhei
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/simfang.ttf",
)


@dataclass(frozen=True)
class NoticeFonts:
    """The font of a notice and which characters it can show."""

    name: str                      # the main font's registered name
    embedded: bool
    source: str                    # its file, or the CID font's name
    covered: frozenset[int] = field(default=frozenset(), repr=False)

    def font_for(self, char: str) -> str | None:
        """The font that shows ``char``; None when no font can."""
        code = ord(char)
        if self.embedded and code in self.covered:
            return self.name
        if code < 0x80 or _in_adobe_gb1(char):
            return CID_FONT
        return None


def _in_adobe_gb1(char: str) -> bool:
    """Characters Adobe-GB1 (GB 18030-2000's BMP part, so also GBK) surely has."""
    code = ord(char)
    if 0x3400 <= code <= 0x4DB5:  # CJK Extension A, in GB 18030-2000
        return True
    try:
        char.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def _register_cid() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


@functools.cache
def _register_truetype(path: str, index: int) -> NoticeFonts:
    name = "YiwangNotice-" + hashlib.sha1(f"{path}#{index}".encode(),
                                          usedforsecurity=False).hexdigest()[:8]
    font = TTFont(name, path, subfontIndex=index)
    pdfmetrics.registerFont(font)
    return NoticeFonts(name=name, embedded=True, source=path,
                       covered=frozenset(font.face.charToGlyph))


def _candidates() -> Iterator[tuple[str, int, bool]]:
    configured = str(getattr(settings, "YIWANG_PDF_FONT", "") or "")
    if configured:
        path, _sep, index = configured.partition("#")
        yield path, int(index or 0), True
    for path in WELL_KNOWN_FONTS:
        yield path, 0, False


def notice_fonts() -> NoticeFonts:
    """The configured or first well-known embeddable font, else the CID font.

    ``YIWANG_PDF_FONT``: a TrueType file (``path`` or ``path#subfont`` for a .ttc), or
    ``STSong-Light`` to embed nothing. A configured font that cannot be used is logged
    and skipped: a decision is never refused because of a font.
    """
    _register_cid()
    if str(getattr(settings, "YIWANG_PDF_FONT", "")) == CID_FONT:
        return NoticeFonts(name=CID_FONT, embedded=False, source=CID_FONT)
    for path, index, configured in _candidates():
        if not Path(path).is_file():
            if configured:
                logger.error("YIWANG_PDF_FONT %s: no such file; using another font", path)
            continue
        try:
            return _register_truetype(path, index)
        except (TTFError, OSError, ValueError) as exc:  # e.g. CFF outlines, a bad index
            logger.error("PDF font %s cannot be embedded (%s); using another font", path, exc)
    return NoticeFonts(name=CID_FONT, embedded=False, source=CID_FONT)


def font_runs(text: str, fonts: NoticeFonts) -> list[tuple[str, str]]:
    """``text`` cut into (font, chunk) runs; characters no font has become ``[U+XXXX]``."""
    runs: list[tuple[str, str]] = []
    for char in unicodedata.normalize("NFC", text):
        font = fonts.font_for(char)
        if font is None:
            logger.warning("no PDF font shows %r (U+%04X); printing its code", char, ord(char))
            font, char = fonts.name if fonts.embedded else CID_FONT, f"[U+{ord(char):04X}]"
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return runs


def _markup(text: str, fonts: NoticeFonts) -> str:
    """Paragraph markup of plain ``text``: escaped, other fonts where the main one lacks."""
    return "".join(escape(chunk) if font == fonts.name
                   else f'<font face="{font}">{escape(chunk)}</font>'
                   for font, chunk in font_runs(text, fonts))


def _draw(canvas: Canvas, x: float, y: float, text: str, size: float, fonts: NoticeFonts,
          *, align: str = "left", bold: bool = False, max_width: float | None = None) -> None:
    """One line of text at (x, y); shrunk to ``max_width`` if it would be wider."""
    runs = font_runs(text, fonts)
    width = sum(pdfmetrics.stringWidth(chunk, font, size) for font, chunk in runs)
    if max_width and width > max_width:
        size, width = size * max_width / width, max_width
    x -= {"left": 0, "center": width / 2, "right": width}[align]
    text_object = canvas.beginText(x, y)
    if bold:  # CJK fonts come without a bold face: stroke the outline as well
        canvas.setLineWidth(size * 0.035)
        text_object.setTextRenderMode(2)
    for font, chunk in runs:
        text_object.setFont(font, size)
        text_object.textOut(chunk)
    canvas.drawText(text_object)


# --- layout -------------------------------------------------------------------------------

# reportlab's CJK line breaker knows the Japanese 禁则 set only; a Chinese comma, colon or
# closing title mark must not start a line either (GB/T 15834), so it hangs at the end of
# the line before instead.
CANNOT_START_LINE_ZH = "，；：！？》〉”’〗"
for _module in (rl_paragraph, rl_textsplit):  # multi-font and single-font paragraphs
    _module.ALL_CANNOT_START += "".join(
        c for c in CANNOT_START_LINE_ZH if c not in _module.ALL_CANNOT_START)

INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#595959")
# Left and right margins of GB/T 9704 (党政机关公文格式); top and bottom a little smaller
# so that a notice with a long reason still fits one page.
MARGINS = {"topMargin": 25 * mm, "leftMargin": 28 * mm, "rightMargin": 26 * mm,
           "bottomMargin": 25 * mm}
BODY_SIZE = 14  # 四号


class _Line(Flowable):
    """One line of large text drawn directly (the heading and the title)."""

    def __init__(self, text: str, size: float, fonts: NoticeFonts, *, bold: bool = False,
                 space_after: float = 0) -> None:
        super().__init__()
        self.text, self.size, self.fonts, self.bold = text, size, fonts, bold
        self.spaceAfter = space_after

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.size * 1.5

    def draw(self) -> None:
        self.canv.setFillColor(INK)
        self.canv.setStrokeColor(INK)
        _draw(self.canv, self.width / 2, self.size * 0.4, self.text, self.size, self.fonts,
              align="center", bold=self.bold)


class _Signature(Flowable):
    """The issuing department and the date, right-aligned, with the seal's place marked
    by a dashed circle labelled 印章 (the seal is applied by the issuing system, never
    imitated here)."""

    RADIUS = 21 * mm  # an official seal is 42 mm across

    def __init__(self, department: str, date: str, fonts: NoticeFonts) -> None:
        super().__init__()
        self.department, self.date, self.fonts = department, date, fonts

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, 2 * self.RADIUS + 2 * mm

    def draw(self) -> None:
        canvas, size = self.canv, BODY_SIZE
        right = self.width - 4 * size  # 右空四字 (GB/T 9704)
        text_width = max(pdfmetrics.stringWidth(t, self.fonts.name, size)
                         for t in (self.department, self.date))
        centre_x = right - text_width / 2
        centre_y = self.RADIUS + 1 * mm
        canvas.saveState()
        canvas.setStrokeColor(colors.HexColor("#9a9a9a"))
        canvas.setDash(3, 2)
        canvas.setLineWidth(0.6)
        canvas.circle(centre_x, centre_y, self.RADIUS)
        canvas.setFillColor(colors.HexColor("#9a9a9a"))
        _draw(canvas, centre_x, centre_y + self.RADIUS - 7 * mm, "印章", 9, self.fonts,
              align="center")
        canvas.restoreState()
        canvas.setFillColor(INK)
        _draw(canvas, centre_x, centre_y + 1.5 * mm, self.department, size, self.fonts,
              align="center")
        _draw(canvas, centre_x, centre_y - size - 2 * mm, self.date, size, self.fonts,
              align="center")


def _styles(fonts: NoticeFonts) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=fonts.name, fontSize=BODY_SIZE,
                          leading=BODY_SIZE * 1.8, textColor=INK, wordWrap="CJK",
                          alignment=TA_JUSTIFY)
    return {
        "body": ParagraphStyle("indented", parent=base, firstLineIndent=2 * BODY_SIZE),
        "plain": base,
        "number": ParagraphStyle("number", parent=base, alignment=TA_CENTER, fontSize=12,
                                 leading=20),
        "label": ParagraphStyle("label", parent=base, fontSize=12, leading=18,
                                textColor=MUTED),
        "fact": ParagraphStyle("fact", parent=base, fontSize=12, leading=18),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=13,
                                textColor=MUTED, alignment=0),
    }


def _facts_table(notice: Notice, fonts: NoticeFonts, styles: dict[str, ParagraphStyle],
                 width: float) -> Table:
    rows = [[Paragraph(_markup(label, fonts), styles["label"]),
             Paragraph(_markup(value, fonts), styles["fact"])] for label, value in notice.facts]
    label_width = 38 * mm  # room for 统一社会信用代码 on one line
    table = Table(rows, colWidths=[label_width, width - label_width], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), fonts.name),  # not reportlab's default Helvetica
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEABOVE", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, INK),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, 0), 7),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 7),
    ]))
    return table


def _numbered_canvas(notice: Notice, fonts: NoticeFonts) -> type[Canvas]:
    """A canvas that ends every page with the verification line (case number and the
    content's SHA-256) and 第 N 页 共 M 页, once the page count is known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            width, _height = A4
            self.setFillColor(MUTED)
            self.setStrokeColor(MUTED)
            self.setLineWidth(0.4)
            left, right = MARGINS["leftMargin"], width - MARGINS["rightMargin"]
            y = MARGINS["bottomMargin"] - 9 * mm
            self.line(left, y + 4 * mm, right, y + 4 * mm)
            _draw(self, left, y, f"核验　办件编号：{notice.case_number}　"
                  f"内容摘要（SHA-256）：{notice.digest}", 7.5, fonts, max_width=right - left)
            y -= 4.5 * mm
            _draw(self, left, y, f"{notice.title}　{notice.document_number}", 7.5, fonts)
            _draw(self, right, y, f"第 {self._pageNumber} 页　共 {total} 页", 7.5, fonts,
                  align="right")

    return NumberedCanvas


def render_notice(notice: Notice, fonts: NoticeFonts | None = None) -> bytes:
    """The notice as an A4 PDF."""
    fonts = fonts or notice_fonts()
    styles = _styles(fonts)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=f"{notice.title} {notice.document_number}",
        author=notice.department, subject=f"{notice.matter}（办件编号：{notice.case_number}）",
        creator="yiwang 一网通办",
        # reportlab starts each page in Helvetica; start in ours, so that the file names no
        # font it does not use.
        initialFontName=fonts.name, **MARGINS)
    width = document.width
    story: list[Flowable] = [
        _Line(notice.department, 16, fonts, space_after=1 * mm),
        _Line(notice.title, 22, fonts, bold=True, space_after=2 * mm),
        Paragraph(_markup(notice.document_number, fonts), styles["number"]),
        Spacer(0, 5 * mm),
        _facts_table(notice, fonts, styles, width),
        Spacer(0, 6 * mm),
        Paragraph(_markup(notice.salutation, fonts), styles["plain"]),
        *[Paragraph(_markup(text, fonts), styles["body"]) for text in notice.paragraphs],
        Paragraph(_markup(notice.remedy, fonts), styles["body"]),
        Spacer(0, 4 * mm),
        _Signature(notice.department, notice.decided_on, fonts),
    ]
    document.build(story, canvasmaker=_numbered_canvas(notice, fonts))
    return buffer.getvalue()


# --- issuing and reading ------------------------------------------------------------------


def _may_issue(actor: Any, case: Case, decision: str) -> bool:
    perm = "services.accept_case" if decision == "refuse" else "services.decide_case"
    return (getattr(actor, "kind", "") == "staff" and policies.has_perm(actor, perm)
            and any(policies.in_scope(actor, unit.path)
                    for unit in (case.department, case.intake_unit)))


def notice_of(case: Case) -> CaseMaterial | None:
    """The decision notice issued for ``case``, if any."""
    return (CaseMaterial.objects
            .filter(case=case, kind=CaseMaterialKind.RESULT,
                    file__contains=f"/{NOTICE_FILE_PREFIX}")
            .order_by("-uploaded_at", "-id").first())


@transaction.atomic
def issue_decision_notice(*, case: Case, actor: Any) -> CaseMaterial:
    """Render the notice of the case's decision and store it as its result document.

    Called by the decision transitions inside their transaction (after they recorded
    the decision); issuing again returns the notice already issued.
    """
    if not policies.is_active_actor(actor):
        raise PermissionDenied
    existing = notice_of(case)
    if existing is not None:
        return existing
    event = _decision_event(case)
    if event is None:
        raise ValidationError(_("This case has no decision to issue a notice for."),
                              code="no_decision")
    if not _may_issue(actor, case, event.action):
        raise PermissionDenied
    decided_at = case.decided_at if event.action != "refuse" else case.closed_at
    notice = build_notice(case, decision=event.action, reason=event.reason,
                          decided_at=decided_at or event.at)
    fonts = notice_fonts()
    content = render_notice(notice, fonts)
    digest = hashlib.sha256(content).hexdigest()
    material = CaseMaterial(case=case, kind=CaseMaterialKind.RESULT,
                            original_name=f"{notice.title}_{case.number}.pdf",
                            content_type="application/pdf", size=len(content), sha256=digest,
                            uploaded_by=actor)
    material.file.save(f"{NOTICE_FILE_PREFIX}{case.number}.pdf", ContentFile(content),
                       save=False)
    material.save()
    audit_log(actor=actor, action="services.notice.issue", obj=material,
              object_label=f"{notice.title} {notice.document_number}",
              scope_path=case.department.path,
              after={"case": case.number, "title": notice.title,
                     "document_number": notice.document_number, "sha256": digest,
                     "content_sha256": notice.digest, "size": len(content),
                     "font": fonts.source, "embedded": fonts.embedded})
    return material


class NoticeIntegrityError(RuntimeError):
    """The stored notice is not the one issued (its SHA-256 differs)."""


def notice_content(material: CaseMaterial) -> bytes:
    """The issued notice's bytes, after checking them against the recorded SHA-256."""
    with material.file.open("rb") as stored:
        content = stored.read()
    if hashlib.sha256(content).hexdigest() != material.sha256:
        logger.error("stored notice %s of case %s does not match its SHA-256",
                     material.pk, material.case_id)
        raise NoticeIntegrityError(material.pk)
    return content
