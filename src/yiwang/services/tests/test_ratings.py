"""好差评: one rating per case and channel; bad ratings open a rectification."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.accounts.roles import Role
from yiwang.core.tests.factories import make_citizen, make_staff
from yiwang.services import cases, ratings
from yiwang.services.models import Case, Channel, RatingLevel
from yiwang.services.models import RectificationStatus as R
from yiwang.services.tests.factories import add_case_staff, make_matter
from yiwang.services.tests.test_cases import attach_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_case(district) -> Case:
    add_case_staff(district)
    district.users["dept_handler2"] = make_staff("dept_handler2", district.department,
                                                 Role.HANDLER)
    version = make_matter(district)
    citizen = make_citizen(phone="13800138000")
    u = district.users
    case = cases.case_create(actor=citizen, version=version, applicant=citizen,
                             channel=Channel.MOBILE)
    attach_all(case, citizen)
    case = cases.case_submit(actor=citizen, case=case)
    case = cases.case_accept(actor=u["dept_clerk"], case=case)
    case = cases.case_start_review(actor=u["dept_handler"], case=case)
    case = cases.case_approve(actor=u["dept_approver"], case=case)
    case = cases.case_deliver(actor=u["dept_clerk"], case=case, method="download")
    case = cases.case_close(actor=u["dept_clerk"], case=case)
    case.users = u
    return case


def test_rating__good__no_rectification(closed_case):
    rating = ratings.rating_create(actor=closed_case.applicant, case=closed_case,
                                   level=RatingLevel.VERY_SATISFIED, channel="mobile")
    assert not hasattr(rating, "rectification") or rating.rectification is None


def test_rating__once_per_channel(closed_case):
    ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=5, channel="pc")
    with pytest.raises(ValidationError):
        ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=4,
                              channel="pc")
    ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=4, channel="sms")


def test_rating__someone_elses_case__refused(closed_case):
    other = make_citizen(username="other", id_number="440304199003071235")
    with pytest.raises(PermissionDenied):
        ratings.rating_create(actor=other, case=closed_case, level=1, channel="pc")


def test_rating__open_case__refused(district):
    add_case_staff(district)
    version = make_matter(district)
    citizen = make_citizen()
    case = cases.case_create(actor=citizen, version=version, applicant=citizen,
                             channel=Channel.PC)
    with pytest.raises(ValidationError):
        ratings.rating_create(actor=citizen, case=case, level=5, channel="pc")


def test_bad_rating__rectification__contact_rectify_callback(closed_case):
    u = closed_case.users
    rating = ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=1,
                                   channel="mobile", tags=["办理慢"], text="等了很久")
    rect = rating.rectification
    assert rect.status == R.OPEN and rect.department == closed_case.department
    assert rect.clock.limit == 15
    with pytest.raises(PermissionDenied):  # a street clerk is not the responsible department
        ratings.rectification_contact(actor=u["clerk_a"], rectification=rect,
                                      verification="x", contact_note="y")
    rect = ratings.rectification_contact(actor=u["dept_handler"], rectification=rect,
                                         verification="核实属实", contact_note="电话联系申请人")
    rect = ratings.rectification_rectify(actor=u["dept_handler"], rectification=rect,
                                         result="优化审查流程")
    rect = ratings.rectification_callback(actor=u["dept_handler"], rectification=rect,
                                          level=RatingLevel.SATISFIED, note="认可整改")
    assert rect.status == R.CLOSED and rect.clock.stopped_at is not None


def test_bad_rating__without_reason__refused(closed_case):
    with pytest.raises(ValidationError):
        ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=2,
                              channel="pc")


def test_appeal__supervisor_voids_malicious_rating(closed_case):
    u = closed_case.users
    rating = ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=1,
                                   channel="pc", text="乱评")
    rect = ratings.rectification_appeal(actor=u["dept_handler"],
                                        rectification=rating.rectification,
                                        reason="评价内容与办件无关")
    with pytest.raises(PermissionDenied):  # the department cannot decide its own appeal
        ratings.rectification_decide_appeal(actor=u["dept_approver"], rectification=rect,
                                            uphold=True, decision="x")
    rect = ratings.rectification_decide_appeal(actor=u["supervisor"], rectification=rect,
                                               uphold=True, decision="经复核属恶意差评")
    assert rect.status == R.VOIDED


def test_rectification__two_handlers_race__second_refused(closed_case):
    u = closed_case.users
    rating = ratings.rating_create(actor=closed_case.applicant, case=closed_case, level=1,
                                   channel="pc", text="态度差")
    rect = rating.rectification
    seen = rect.revision
    ratings.rectification_contact(actor=u["dept_handler"], rectification=rect,
                                  verification="a", contact_note="b", expected_revision=seen)
    with pytest.raises(ValidationError):
        ratings.rectification_contact(actor=u["dept_handler2"], rectification=rect,
                                      verification="c", contact_note="d",
                                      expected_revision=seen)
