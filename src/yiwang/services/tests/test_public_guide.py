"""The public 办事指南: every element a citizen needs, three languages, print, retired."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from yiwang.services.models import Material, MaterialSource, Matter, MatterVersion, VersionStatus
from yiwang.services.tests.factories import make_matter

pytestmark = pytest.mark.django_db
CODE = "11440300MB2C92416M4440300001000"
URL = f"/services/matters/{CODE}/"


def tr(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture
def version(district) -> MatterVersion:
    version = make_matter(
        district, legal_basis="《中华人民共和国建筑法》第七条", commitment_allowed=True,
        cross_region=True, has_fee=True, fee_standard="每件100元", fee_basis="《收费标准》",
        acceptance_conditions="申请材料齐全、符合法定形式", limit_note="不含专家评审时间",
        result_name="建筑工程施工许可证", result_type="证照", hours="周一至周五 9:00-18:00",
        locations=[{"name": "区行政服务大厅", "address": "示范路1号"}],
        consult_phone="0755-88886666", complaint_phone="12345",
        faq=[{"q": "可以网上办理吗？", "a": "可以。"}], effective_from="2026-01-01",
        translations={"en": {"name": "Construction permit for building works",
                             "steps": ["Acceptance", "Review", "Decision", "Completion",
                                       "Delivery"]},
                      "zh-hant": {"result_name": "建築工程施工許可證（正本）"}})
    Material.objects.create(version=version, code="license", name="营业执照", required=True,
                            source=MaterialSource.LICENSE, license_type="营业执照", sort_order=5)
    Material.objects.create(version=version, code="agent", name="授权委托书", required=False,
                            condition="委托他人办理的", copies=1, issuer="申请人", sort_order=6)
    Material.objects.create(version=version, code="social", name="社保缴纳记录",
                            source=MaterialSource.REGISTRY, sort_order=7)
    return version


def test_guide__shows_every_element_a_citizen_needs(version):
    response = Client().get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("建筑工程施工许可证核发", "示范区住房和建设局", "《中华人民共和国建筑法》第七条",
                 "申请材料齐全、符合法定形式", "不含专家评审时间", "每件100元", "《收费标准》",
                 "建筑工程施工许可证", "证照", "区行政服务大厅", "示范路1号",
                 "周一至周五 9:00-18:00", 'href="tel:0755-88886666"', "可以网上办理吗？",
                 "000127001000", CODE):
        assert text in html, text
    # Materials: required or conditional, originals/copies, issuer, source.
    for text in ("申请表", "建设工程规划许可证", "授权委托书", "委托他人办理的", "营业执照",
                 "社保缴纳记录", tr("Electronic license: nothing to submit"),
                 tr("Shared government data: nothing to submit"),
                 tr("may follow later (容缺)"), tr("Only if:")):
        assert text in html, text
    # Steps in order, flags and limits.
    steps = [s.text for s, _d in response.context["guide"].steps]
    assert steps == ["受理", "审查", "决定", "办结", "送达"]
    for text in ("Approval on commitment (告知承诺)", "Cross-region (跨域通办)",
                 "The result can be sent by post free of charge."):
        assert tr(text) in html, text
    assert tr("%(n)s working days") % {"n": 20} in html  # statutory
    assert tr("%(n)s working days") % {"n": 5} in html  # promised


def test_guide__version_and_effective_date_are_visible(version):
    html = Client().get(URL).content.decode()
    with translation.override("zh-hans"):
        assert "1" in html and "2026年1月1日" in html


def test_guide__apply_online_only_when_online_forms_and_the_route_exist(version):
    try:
        apply_url = reverse("services:case_apply", args=[CODE])
    except NoReverseMatch:
        apply_url = None
    html = Client().get(URL).content.decode()
    if apply_url:
        assert f'href="{apply_url}"' in html
    MatterVersion.objects.filter(pk=version.pk).update(handling_forms=["window"])
    window_only = Client().get(URL).content.decode()
    assert tr("Apply online") not in window_only


def test_guide__free_matter_says_so(district):
    make_matter(district)
    assert tr("Free of charge (不收费)") in Client().get(URL).content.decode()


def test_guide__zh_hant_is_converted_unless_translated(version):
    client = Client()
    client.cookies["django_language"] = "zh-hant"
    response = client.get(URL)
    html = response.content.decode()
    assert '<html lang="zh-Hant"' in html
    assert "建築工程施工許可證核發" in html and "建筑工程施工许可证核发" not in html
    assert "《中華人民共和國建築法》第七條" in html
    assert "建築工程施工許可證（正本）" in html  # translations['zh-hant'] wins
    assert response.context["guide"].untranslated is False


def test_guide__english_uses_translations_and_marks_chinese_fallback(version):
    client = Client()
    client.cookies["django_language"] = "en"
    response = client.get(URL)
    html = response.content.decode()
    assert "<h1>Construction permit for building works</h1>" in html
    assert "Acceptance" in html and "Delivery" in html
    assert '<span lang="zh-Hans">申请材料齐全、符合法定形式</span>' in html
    assert '<span lang="zh-Hans">授权委托书</span>' in html
    assert "The official text of this guide is in Chinese" in html
    assert "Materials" in html  # labels are English


def test_guide__print_view_has_no_navigation(version):
    html = Client().get(URL, {"print": "1"}).content.decode()
    assert "yw-print-view" in html and "data-yw-print" in html
    assert "yw-masthead" not in html and "yw-footer" not in html
    assert "授权委托书" in html
    normal = Client().get(URL).content.decode()
    assert 'href="?print=1"' in normal and "yw-masthead" in normal


def test_guide__unknown_and_never_published_matters_are_404(version, district):
    assert Client().get("/services/matters/NO-SUCH/").status_code == 404
    draft = make_matter(district, code="M-DRAFT-ONLY", name="草稿事项")
    MatterVersion.objects.filter(pk=draft.pk).update(status=VersionStatus.DRAFT)
    Matter.objects.filter(pk=draft.matter_id).update(published=None)
    assert Client().get("/services/matters/M-DRAFT-ONLY/").status_code == 404


def test_guide__retired_matter_answers_410_with_a_notice_and_no_content(version):
    MatterVersion.objects.filter(pk=version.pk).update(status=VersionStatus.RETIRED,
                                                        effective_to="2026-06-30")
    Matter.objects.filter(pk=version.matter_id).update(published=None)
    response = Client().get(URL)
    assert response.status_code == 410
    html = response.content.decode()
    assert "建筑工程施工许可证核发" in html and "2026年6月30日" in html
    assert "授权委托书" not in html and "每件100元" not in html
    assert 'href="tel:12345"' in html


def test_guide__queries_do_not_grow_with_materials(version):
    client = Client()
    client.get(URL)
    with CaptureQueriesContext(connection) as before:
        client.get(URL)
    for index in range(10):
        Material.objects.create(version=version, code=f"extra{index}", name=f"材料{index}")
    with CaptureQueriesContext(connection) as after:
        client.get(URL)
    assert len(after) == len(before)


def test_guide__stored_text_is_escaped_in_every_language(district):
    make_matter(district, acceptance_conditions="<script>alert(1)</script>",
                translations={"en": {"result_name": "<b>bold</b>"}})
    for language in ("zh-hans", "zh-hant", "en"):
        client = Client()
        client.cookies["django_language"] = language
        html = client.get(URL).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>bold</b>" not in html
