"""The browser gate's own test: a page with a known fault must fail it."""

from __future__ import annotations

import pytest

from .harness import PageCheckFailed, blocking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gate_pages(settings):
    settings.ROOT_URLCONF = "tests.browser.gate_urls"


def test_gate__an_unlabeled_form_field_fails_the_page(open_tab, gate_pages):
    tab = open_tab("desktop")
    tab.visit("/__gate__/labeled/")  # the same page with a label passes

    with pytest.raises(PageCheckFailed) as failure:
        tab.visit("/__gate__/unlabeled/")

    impacts = {v["id"]: v["impact"] for v in blocking(failure.value.report)}
    assert impacts == {"label": "critical"}
    message = str(failure.value)
    assert "[critical] label — Form elements must have labels" in message
    assert "https://dequeuniversity.com/rules/axe/" in message
    assert '<input type="text" name="x" class="form-control">' in message


def test_gate__a_stylesheet_that_does_not_load_fails_the_page(open_tab, gate_pages):
    tab = open_tab("desktop")
    with pytest.raises(PageCheckFailed) as failure:
        tab.visit("/__gate__/missing-css/")
    assert failure.value.report["violations"] == []
    assert "404 http://" in str(failure.value) and "/static/core/missing.css" in str(failure.value)


def test_gate__a_page_left_unchecked_is_noticed(open_tab, gate_pages):
    tab = open_tab("desktop")
    tab.visit("/__gate__/labeled/")
    tab.page.goto(tab.url("/__gate__/unlabeled/"))  # behind the harness's back
    tab.page.goto(tab.url("/__gate__/labeled/"))
    tab.check()
    # forget: the teardown would otherwise fail this test for the same page
    unchecked = tab.unchecked_pages(forget=True)
    assert [url.rsplit("/__gate__/", 1)[1] for url in unchecked] == ["unlabeled/"]
