"""Decision notices: issued once with the decision, as a PDF that says what was decided,
and downloaded as issued by the applicant and by staff in scope only."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from pypdf import PdfReader

from yiwang.core.models import AuditEntry, OrgUnit
from yiwang.core.tests.factories import make_citizen
from yiwang.core.validators import id_check_char
from yiwang.services import cases, documents
from yiwang.services.models import (
    Case,
    CaseMaterial,
    CaseMaterialKind,
    CaseStatus,
    Channel,
    Material,
    MatterType,
    MatterVersion,
)
from yiwang.services.tests.factories import add_case_staff, make_matter

pytestmark = pytest.mark.django_db
ID_NUMBER = "11010519491231002X"


@pytest.fixture(params=["STSong-Light", ""], ids=["cid-font", "auto-font"])
def font(request, settings):
    """Every notice test runs with the built-in CID font and with whatever this machine
    offers (an embedded TrueType font where one is installed)."""
    settings.YIWANG_PDF_FONT = request.param
    return request.param


@pytest.fixture
def world(district, font):
    add_case_staff(district)
    OrgUnit.objects.filter(pk=district.department.pk).update(short_name="住建局")
    district.department.refresh_from_db()
    district.version = make_matter(district, legal_basis="《建筑工程施工许可管理办法》第四条")
    district.citizen = make_citizen(id_number=ID_NUMBER, name="王小明")
    return district


def _attach_all(case: Case, actor) -> None:
    for material in Material.objects.filter(version=case.version):
        CaseMaterial.objects.create(
            case=case, material=material, file=ContentFile(b"%PDF-1.4 test", name="a.pdf"),
            original_name=f"{material.code}.pdf", content_type="application/pdf", size=13,
            sha256="0" * 64, uploaded_by=actor)


def submitted_case(world, version=None) -> Case:
    case = cases.case_create(actor=world.citizen, version=version or world.version,
                             applicant=world.citizen, channel=Channel.PC,
                             form_data={"project": "示范小学扩建工程"})
    _attach_all(case, world.citizen)
    return cases.case_submit(actor=world.citizen, case=case)


def case_under_review(world, version=None) -> Case:
    case = cases.case_accept(actor=world.users["dept_clerk"],
                             case=submitted_case(world, version))
    return cases.case_start_review(actor=world.users["dept_handler"], case=case)


def notices(case: Case) -> list[CaseMaterial]:
    return list(CaseMaterial.objects.filter(case=case, kind=CaseMaterialKind.RESULT))


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """Extracted text without the line breaks that wrapping put in."""
    return re.sub(r"\s+", "", text)


def stored(material: CaseMaterial) -> bytes:
    with material.file.open("rb") as handle:
        return handle.read()


# --- issuing --------------------------------------------------------------------------------


def test_approve__issues_one_notice__pdf_says_who_what_and_how_to_appeal(world):
    case = cases.case_approve(actor=world.users["dept_approver"],
                              case=case_under_review(world), opinion="材料齐全，符合法定条件")
    (notice,) = notices(case)
    content = stored(notice)
    assert content.startswith(b"%PDF-")
    assert notice.sha256 == hashlib.sha256(content).hexdigest()
    assert notice.size == len(content) and notice.content_type == "application/pdf"
    assert notice.original_name == f"准予行政许可决定书_{case.number}.pdf"
    text = flat(pdf_text(content))
    for expected in ("准予行政许可决定书", "示范区住房和建设局", "王小明", case.number,
                     "建筑工程施工许可证核发",
                     "根据《建筑工程施工许可管理办法》第四条和《中华人民共和国行政许可法》"
                     "第三十八条第一款的规定",
                     "决定准予行政许可", "审查意见：材料齐全，符合法定条件",
                     "六十日内向示范区人民政府申请行政复议", "六个月内依法向人民法院提起行政诉讼",
                     "印章"):
        assert expected in text, expected
    assert re.search(r"住建许准字〔\d{4}〕第000001号", text)
    assert documents.chinese_date(dt.date.today())[:5] in text  # 二〇二六年…
    assert re.search(r"共1页", text)


def test_notice__masks_the_citizen_id_number_and_prints_the_content_digest(world):
    case = cases.case_approve(actor=world.users["dept_approver"], case=case_under_review(world))
    text = flat(pdf_text(stored(notices(case)[0])))
    assert ID_NUMBER not in text
    assert "1101**********002X" in text
    entry = AuditEntry.objects.get(action="services.notice.issue")
    assert entry.after["case"] == case.number
    assert entry.after["sha256"] == notices(case)[0].sha256
    assert f"内容摘要（SHA-256）：{entry.after['content_sha256']}" in text


def test_notice__issuing_again_returns_the_notice_as_issued(world):
    case = cases.case_approve(actor=world.users["dept_approver"], case=case_under_review(world))
    first = notices(case)[0]
    again = documents.issue_decision_notice(case=case, actor=world.users["dept_approver"])
    assert again.pk == first.pk and len(notices(case)) == 1


def test_reject__licence__not_approved_notice_with_the_reason(world):
    case = cases.case_reject(actor=world.users["dept_approver"], case=case_under_review(world),
                             reason="施工图设计文件未经审查合格。")
    (notice,) = notices(case)
    text = flat(pdf_text(stored(notice)))
    assert "不予行政许可决定书" in text and "决定不予行政许可" in text
    assert "《中华人民共和国行政许可法》第三十八条第二款" in text
    assert "理由如下：施工图设计文件未经审查合格。" in text  # one full stop, not two
    assert re.search(r"住建许不字〔\d{4}〕第000001号", text)
    assert "申请行政复议" in text


def test_refuse__not_accepted_notice_with_the_reason(world):
    case = cases.case_refuse(actor=world.users["dept_clerk"], case=submitted_case(world),
                             reason="申请事项不属于本机关职权范围")
    text = flat(pdf_text(stored(notices(case)[0])))
    assert "不予受理通知书" in text and "决定不予受理" in text
    assert "理由如下：申请事项不属于本机关职权范围。" in text
    assert "根据《中华人民共和国行政许可法》第三十二条第一款的规定" in text
    assert "自收到本通知书之日起六十日内" in text


def test_approve__public_service__completion_notice(world):
    version = make_matter(world, code="11440300MB2C92416M4440300002000", name="居住证明开具",
                          result_name="居住证明")
    MatterVersion.objects.filter(pk=version.pk).update(matter_type=MatterType.PUBLIC_SERVICE)
    version.refresh_from_db()
    case = cases.case_approve(actor=world.users["dept_approver"],
                              case=case_under_review(world, version))
    text = flat(pdf_text(stored(notices(case)[0])))
    assert "办结通知书" in text and "办理结果：居住证明" in text
    assert "有关法律、法规和规章" in text  # the matter names no legal basis
    assert re.search(r"住建办结字〔\d{4}〕第000001号", text)


def test_document_numbers__run_per_department_kind_and_year(world):
    approver = world.users["dept_approver"]
    first = cases.case_approve(actor=approver, case=case_under_review(world))
    second = cases.case_approve(actor=approver, case=case_under_review(world))
    numbers = [re.search(r"住建许准字〔\d{4}〕第(\d{6})号", flat(pdf_text(stored(notices(c)[0]))))
               for c in (first, second)]
    assert [m.group(1) for m in numbers if m] == ["000001", "000002"]


def test_enterprise__notice_shows_the_credit_code_and_addresses_the_unit(world):
    from yiwang.accounts.models import User, UserKind

    company = User.objects.create(username="acme", kind=UserKind.ENTERPRISE, name="赵六",
                                  enterprise_name="示范建设有限公司",
                                  credit_code="91440300MA5FXXXX0X")
    case = cases.case_create(actor=company, version=world.version, applicant=company,
                             channel=Channel.PC)
    _attach_all(case, company)
    case = cases.case_submit(actor=company, case=case)
    case = cases.case_refuse(actor=world.users["dept_clerk"], case=case, reason="材料不全")
    text = flat(pdf_text(stored(notices(case)[0])))
    assert "示范建设有限公司：" in text and "你单位于" in text
    assert "统一社会信用代码" in text and "91440300MA5FXXXX0X" in text


def test_long_reason__wraps_onto_a_second_page_with_page_numbers(world):
    reason = "；".join(f"第{n}项材料与原件不一致，且未在补正期限内提交说明" for n in range(1, 40))
    case = cases.case_reject(actor=world.users["dept_approver"], case=case_under_review(world),
                             reason=reason)
    content = stored(notices(case)[0])
    assert len(PdfReader(io.BytesIO(content)).pages) >= 2
    text = flat(pdf_text(content))
    assert "第1页共2页" in text or "第1页共3页" in text
    assert "第39项材料与原件不一致" in text  # nothing cut


def test_decision__rolled_back_when_the_notice_cannot_be_issued(world, monkeypatch):
    case = case_under_review(world)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(documents, "render_notice", broken)
    with pytest.raises(OSError):
        cases.case_approve(actor=world.users["dept_approver"], case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.UNDER_REVIEW and notices(case) == []


def test_issue__refused_to_staff_who_may_not_decide(world):
    case = cases.case_approve(actor=world.users["dept_approver"], case=case_under_review(world))
    CaseMaterial.objects.filter(case=case, kind=CaseMaterialKind.RESULT).delete()
    with pytest.raises(PermissionDenied):
        documents.issue_decision_notice(case=case, actor=world.users["dept_handler"])
    with pytest.raises(PermissionDenied):
        documents.issue_decision_notice(case=case, actor=world.citizen)


def test_issue__without_a_decision__clear_error(world):
    case = case_under_review(world)
    with pytest.raises(ValidationError):
        documents.issue_decision_notice(case=case, actor=world.users["dept_approver"])
    assert notices(case) == []


# --- fonts --------------------------------------------------------------------------------


def _fonts_of(content: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(content))
    found = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            found.add(str(font.get_object()["/BaseFont"]))
    return found


def test_fonts__cid_font_when_configured(world, settings):
    settings.YIWANG_PDF_FONT = "STSong-Light"
    case = cases.case_approve(actor=world.users["dept_approver"], case=case_under_review(world))
    content = stored(notices(case)[0])
    assert _fonts_of(content) == {"/STSong-Light"}
    assert b"/FontFile2" not in content  # nothing embedded


@pytest.mark.skipif(not any(Path(p).is_file() for p in documents.WELL_KNOWN_FONTS),
                    reason="no embeddable TrueType CJK font on this machine")
def test_fonts__truetype_font_found__embedded_as_a_subset(world, settings):
    settings.YIWANG_PDF_FONT = ""
    case = cases.case_approve(actor=world.users["dept_approver"], case=case_under_review(world))
    content = stored(notices(case)[0])
    assert any(re.fullmatch(r"/[A-Z]{6}\+.+", name) for name in _fonts_of(content))
    assert "王小明" in flat(pdf_text(content))


def test_fonts__unusable_configured_font__logged_and_another_used(world, settings, caplog):
    settings.YIWANG_PDF_FONT = "/nonexistent/font.ttf"
    case = cases.case_approve(actor=world.users["dept_approver"], case=case_under_review(world))
    assert "王小明" in flat(pdf_text(stored(notices(case)[0])))
    assert "YIWANG_PDF_FONT /nonexistent/font.ttf: no such file" in caplog.text


def test_fonts__a_character_no_font_has_is_printed_as_its_code_not_a_box(world):
    world.citizen.name = "王𠮷"
    world.citizen.save()
    case = case_under_review(world)
    Case.objects.filter(pk=case.pk).update(applicant_name="王𠮷")
    case.refresh_from_db()
    case = cases.case_approve(actor=world.users["dept_approver"], case=case)
    text = flat(pdf_text(stored(notices(case)[0])))
    assert "王𠮷" in text or "王[U+20BB7]" in text


def test_chinese_date():
    assert documents.chinese_date(dt.date(2026, 11, 22)) == "二〇二六年十一月二十二日"
    assert documents.chinese_date(dt.date(2030, 1, 10)) == "二〇三〇年一月十日"
    assert documents.chinese_date(dt.date(2031, 10, 31)) == "二〇三一年十月三十一日"
    assert documents.chinese_date(dt.date(2029, 12, 20)) == "二〇二九年十二月二十日"


# --- download -----------------------------------------------------------------------------


@pytest.fixture
def decided(world):
    return cases.case_approve(actor=world.users["dept_approver"], case=case_under_review(world))


def _url(case: Case) -> str:
    return reverse("services:case_notice", kwargs={"decided_number": case.number})


def test_download__owner_gets_the_notice_as_issued(world, decided, client_for):
    response = client_for(world.citizen).get(_url(decided))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == stored(notices(decided)[0])
    disposition = response["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="decision-notice-{decided.number}.pdf"')
    assert f"filename*=UTF-8''{quote(f'准予行政许可决定书_{decided.number}.pdf')}" in disposition
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.filter(action="services.notice.download").get()
    assert entry.actor_id == world.citizen.pk and entry.after["case"] == decided.number


@pytest.mark.parametrize("role", ["dept_approver", "dept_handler", "supervisor",
                                  "district_admin"])
def test_download__staff_in_scope(world, decided, client_for, role):
    assert client_for(world.users[role]).get(_url(decided)).status_code == 200


@pytest.mark.parametrize("role", ["clerk_b", "clerk_a", "grid_worker_a", "auditor"])
def test_download__staff_out_of_scope_or_without_case_access__404(world, decided, client_for,
                                                                  role):
    assert client_for(world.users[role]).get(_url(decided)).status_code == 404


def test_download__stranger_404_anonymous_to_sign_in(world, decided, client, client_for):
    first17 = "11010519491231003"
    stranger = make_citizen(username="stranger", id_number=first17 + id_check_char(first17),
                            name="李四")
    assert client_for(stranger).get(_url(decided)).status_code == 404
    response = client.get(_url(decided))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not AuditEntry.objects.filter(action="services.notice.download").exists()


def test_download__case_without_notice__404(world, client_for):
    case = submitted_case(world)
    assert client_for(world.citizen).get(_url(case)).status_code == 404


def test_download__altered_file_is_not_served(world, decided):
    notice = notices(decided)[0]
    with notice.file.open("wb") as handle:
        handle.write(b"%PDF-1.4 forged")
    with pytest.raises(documents.NoticeIntegrityError):
        documents.notice_content(notice)
