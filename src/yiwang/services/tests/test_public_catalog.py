"""The public catalog: search by keyword and 拼音, filters, themes, only published matters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from yiwang.core.models.org import OrgKind
from yiwang.core.tests.factories import make_unit
from yiwang.services.catalog import pinyin_key
from yiwang.services.models import Matter, MatterVersion, OnlineDepth, Theme, VersionStatus
from yiwang.services.tests.factories import make_matter

pytestmark = pytest.mark.django_db
URL = "/services/"


def publish(district, code, name, *, department=None, themes=(), visits=0,
            **extra) -> MatterVersion:
    version = make_matter(district, code=code, name=name, **extra)
    if visits:
        MatterVersion.objects.filter(pk=version.pk).update(visits=visits)
    matter = version.matter
    if department is not None:
        Matter.objects.filter(pk=matter.pk).update(department=department)
        MatterVersion.objects.filter(pk=version.pk).update(department=department)
    Matter.objects.filter(pk=matter.pk).update(name_pinyin=pinyin_key(name))
    version.themes.set(Theme.objects.filter(code__in=themes))
    return version


@pytest.fixture
def catalog(district):
    Theme.objects.create(code="construction", name="工程建设", name_en="Construction projects",
                         audience="enterprise", sort_order=1)
    Theme.objects.create(code="birth", name="生育", name_en="Having a baby", audience="person")
    market = make_unit("11440300MB2C92417Q", "示范区市场监督管理局", OrgKind.DEPARTMENT,
                       district.district)
    versions = {
        "permit": publish(district, "M-PERMIT", "建筑工程施工许可证核发",
                          themes=["construction"], service_objects=["enterprise"],
                          online_depth=OnlineDepth.FULL),
        "food": publish(district, "M-FOOD", "食品经营许可", department=market,
                        service_objects=["person", "enterprise"],
                        online_depth=OnlineDepth.PRE_REVIEW, visits=1,
                        visits_reason="核查经营场所"),
        "birth": publish(district, "M-BIRTH", "生育登记", themes=["birth"],
                         service_objects=["person"], promised_limit=0,
                         case_kind="immediate",
                         translations={"en": {"name": "Birth registration"}}),
    }
    # A draft that was never published and a matter taken out of the catalog.
    draft = publish(district, "M-DRAFT", "施工许可草稿事项")
    MatterVersion.objects.filter(pk=draft.pk).update(status=VersionStatus.DRAFT)
    Matter.objects.filter(pk=draft.matter_id).update(published=None)
    retired = publish(district, "M-RETIRED", "建筑施工旧事项")
    MatterVersion.objects.filter(pk=retired.pk).update(status=VersionStatus.RETIRED)
    Matter.objects.filter(pk=retired.matter_id).update(published=None)
    return {**versions, "market": market}


def names(response) -> list[str]:
    return [str(item.name) for item in response.context["items"]]


@pytest.mark.parametrize("query", ["sgxk", "SGXK", "shigong", "施工", "施工許可", "jzgc"])
def test_search__by_keyword_pinyin_initials_or_traditional_finds_the_permit(catalog, query):
    response = Client().get(URL, {"q": query})
    assert response.status_code == 200
    assert names(response) == ["建筑工程施工许可证核发"]
    assert reverse("services:matter_guide", args=["M-PERMIT"]) in response.content.decode()


def test_search__unpublished_and_retired_matters_are_never_listed(catalog):
    for query in ("施工", "sgxk", "建筑施工旧", ""):
        found = names(Client().get(URL, {"q": query}))
        assert "施工许可草稿事项" not in found and "建筑施工旧事项" not in found
    assert len(names(Client().get(URL))) == 3


def test_search__several_words_must_all_match(catalog):
    assert names(Client().get(URL, {"q": "许可 食品"})) == ["食品经营许可"]
    assert names(Client().get(URL, {"q": "许可 生育"})) == []


def test_search__english_name_and_department_name(catalog):
    assert names(Client().get(URL, {"q": "birth registration"})) == ["生育登记"]
    assert names(Client().get(URL, {"q": "市场监督"})) == ["食品经营许可"]


def test_filters__department_object_theme_online_zero_visit(catalog, district):
    client = Client()
    assert names(client.get(URL, {"department": catalog["market"].code})) == ["食品经营许可"]
    assert sorted(names(client.get(URL, {"object": "person"}))) == ["生育登记", "食品经营许可"]
    assert names(client.get(URL, {"object": "enterprise", "q": "登记"})) == []
    assert names(client.get(URL, {"theme": "construction"})) == ["建筑工程施工许可证核发"]
    online = sorted(names(client.get(URL, {"online": "on"})))
    assert online == ["建筑工程施工许可证核发", "生育登记"]
    assert "食品经营许可" not in names(client.get(URL, {"zero_visit": "on"}))
    assert names(client.get(URL, {"zero_visit": "on", "object": "person"})) == ["生育登记"]


def test_results__show_department_and_badges(catalog):
    response = Client().get(URL, {"q": "食品"})
    html = response.content.decode()
    with translation.override("zh-hans"):
        from django.utils.translation import gettext as _

        assert _("At most one visit (最多跑一次)") in html
        assert _("Accepted with deficiencies (容缺受理)") in html
    assert "示范区市场监督管理局" in html
    birth = Client().get(URL, {"q": "生育"}).content.decode()
    with translation.override("zh-hans"):
        assert translation.gettext("Decided on the spot (即办件)") in birth
        assert translation.gettext("No visit (零跑动)") in birth


def test_landing__theme_tiles_per_audience(catalog):
    person = Client().get(URL)
    assert [str(t["name"]) for t in person.context["theme_tiles"]] == ["生育"]
    enterprise = Client().get(URL, {"audience": "enterprise"})
    assert [str(t["name"]) for t in enterprise.context["theme_tiles"]] == ["工程建设"]
    assert "?theme=construction" in enterprise.content.decode()


def test_empty_state__suggests_pinyin_fewer_words_and_the_hotline(catalog):
    response = Client().get(URL, {"q": "不存在的事项", "online": "on"})
    assert response.status_code == 200 and names(response) == []
    html = response.content.decode()
    assert 'href="tel:12345"' in html
    assert "sgxk" in html  # the pinyin hint
    assert f'href="{URL}?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E4%BA%8B%E9%A1%B9"' in html


def test_bad_filter__clear_error_and_no_results(catalog):
    response = Client().get(URL, {"department": "NO-SUCH-UNIT"})
    assert response.status_code == 400
    assert response.context["items"] == []
    assert 'role="alert"' in response.content.decode()
    too_long = Client().get(URL, {"q": "施" * 101})
    assert too_long.status_code == 400


def test_pagination__twenty_per_page_and_constant_queries(district):
    for index in range(3):
        publish(district, f"P-{index:03d}", f"测试事项{index:03d}")
    client = Client()
    client.get(URL)  # warm the caches (the district's name)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for index in range(3, 45):
        publish(district, f"P-{index:03d}", f"测试事项{index:03d}")
    with CaptureQueriesContext(connection) as many:
        first = client.get(URL)
    assert len(many) == len(few)
    assert len(first.context["items"]) == 20
    third = Client().get(URL, {"page": 3})
    assert len(third.context["items"]) == 5


def test_languages__zh_hant_converts_and_english_uses_translations(catalog):
    client = Client()
    client.cookies["django_language"] = "zh-hant"
    hant = client.get(URL, {"q": "sgxk"})
    assert names(hant) == ["建築工程施工許可證核發"]
    assert "示範區住房和建設局" in hant.content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(URL, {"q": "生育"}).content.decode()
    assert "Birth registration" in english
    fallback = client.get(URL, {"q": "食品"}).content.decode()
    assert '<span lang="zh-Hans">食品经营许可</span>' in fallback
