"""Translations: complete for zh-Hans and zh-Hant, compiled, and used by the pages."""

from __future__ import annotations

import polib
import pytest
from django.test import Client

from yiwang.core.management.commands import i18n

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def messages():
    return i18n.extract()


def _catalogue(lang: str) -> dict:
    po = polib.pofile(str(i18n.po_path(lang)))
    return {(e.msgctxt, e.msgid): e for e in po if not e.obsolete}


def test_extract__finds_messages_of_python_templates_and_notifications(messages):
    ids = {msgid for _ctx, msgid in messages}
    assert "Sign in" in ids  # template {% translate %}
    assert "An ID number has 18 characters: 17 digits and a check digit or X." in ids  # .py
    assert "Welcome to yiwang, %(name)s" in ids  # notifications/*.txt blocktranslate
    assert "audit entry" in ids  # model verbose_name


def test_extract__plurals_and_context(messages):
    assert messages[(None, "%(n)d unread message")].msgid_plural == "%(n)d unread messages"
    parsed = list(i18n.extract_template(
        '{% load i18n %}{% translate "May" context "month" %}', "t.html"))
    assert parsed[0][0].msgctxt == "month"


@pytest.mark.parametrize("lang", ["zh_Hans", "zh_Hant", "en"])
def test_catalogue__every_msgid_in_src_is_translated(messages, lang):
    catalogue = _catalogue(lang)
    missing = [key[1] for key in messages if key not in catalogue]
    assert not missing, f"{lang}: run ./yw i18n; not extracted: {missing[:5]}"
    untranslated = [key[1] for key in messages if not i18n.is_translated(catalogue[key])]
    assert not untranslated, f"{lang}: untranslated: {untranslated[:5]}"


@pytest.mark.parametrize("lang", ["zh_Hans", "zh_Hant", "en"])
def test_mo_files__compiled_from_current_po(lang):
    po = polib.pofile(str(i18n.po_path(lang)))
    assert i18n._normal(i18n.mo_catalogue(i18n.mo_path(lang))) == i18n._normal(
        i18n.po_catalogue(po)), f"{lang}: run ./yw i18n to recompile"


def test_zh_hant__is_traditional_not_simplified():
    hant = _catalogue("zh_Hant")
    assert hant[(None, "Sign in")].msgstr == "登入"
    assert hant[(None, "ID card number")].msgstr == "身份證號碼"
    text = "".join(e.msgstr or "".join(e.msgstr_plural.values()) for e in hant.values())
    for simplified in "证号码务办网门户说":
        assert simplified not in text, simplified


def test_to_hant__uses_hong_kong_terms():
    assert i18n.to_hant("退出登录") == "登出"
    assert i18n.to_hant("“台风”") == "「颱風」"


@pytest.mark.parametrize(("lang", "html_lang", "expected"), [
    ("zh-hans", "zh-Hans", "登录"),
    ("zh-hant", "zh-Hant", "登入"),
    ("en", "en", "Sign in"),
])
def test_login_page__renders_in_each_language(lang, html_lang, expected):
    client = Client()
    client.cookies["django_language"] = lang
    html = client.get("/accounts/login/").content.decode()
    assert f'<html lang="{html_lang}"' in html
    assert expected in html


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh-hans", "我的待办"), ("zh-hant", "我的待辦"), ("en", "My to-do"),
])
def test_workbench__renders_in_each_language(district, client_for, lang, expected):
    client = client_for(district.users["clerk_a"])
    client.cookies["django_language"] = lang
    assert expected in client.get("/workbench/").content.decode()


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh-hans", "办事服务"), ("zh-hant", "辦事服務"), ("en", "Apply for services"),
])
def test_home__renders_in_each_language(lang, expected):
    client = Client()
    client.cookies["django_language"] = lang
    assert expected in client.get("/").content.decode()


def test_language_switch__posts_to_setlang_and_sets_cookie():
    client = Client()
    html = client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in html and 'value="zh-hant"' in html
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Apply for services" in client.get("/").content.decode()
