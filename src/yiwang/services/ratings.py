"""好差评: ratings, and the rectification (整改) a bad rating opens.

    rating 不满意/非常不满意 → rectification open ─contact→ contacted ─rectify→ rectified
        ─callback→ closed;   open/contacted ─appeal→ appealed ─decide_appeal→ voided / open
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import policies
from yiwang.core.audit import audit_log
from yiwang.core.models.calendar import ClockUnit
from yiwang.core.notifications import notify
from yiwang.core.workdays import clock_start, clock_stop

from .models import (
    BAD_LEVELS,
    Case,
    CaseStatus,
    Rating,
    RatingChannel,
    RatingLevel,
    Rectification,
)
from .models import RectificationStatus as R

RATABLE = {CaseStatus.CLOSED, CaseStatus.DELIVERED, CaseStatus.REFUSED, CaseStatus.REJECTED}
TAGS_MAX = 10


@transaction.atomic
def rating_create(*, actor: Any, case: Case, level: int, channel: str,
                  tags: list[str] | None = None, text: str = "") -> Rating:
    """The applicant rates their own case once per channel (一次一评)."""
    if not policies.is_active_actor(actor) or case.applicant_id != actor.pk:
        raise PermissionDenied
    if level not in RatingLevel.values:
        raise ValidationError({"level": [_("Choose one of the five levels.")]})
    if channel not in RatingChannel.values:
        raise ValidationError({"channel": [_("Unknown rating channel.")]})
    if case.status not in RATABLE:
        raise ValidationError({"case": [_("A case can be rated once it is decided.")]})
    tags = [t.strip()[:20] for t in (tags or []) if t.strip()][:TAGS_MAX]
    if level in BAD_LEVELS and not (text.strip() or tags):
        raise ValidationError({"text": [_("Tell us what went wrong, so it can be put right.")]})
    try:
        with transaction.atomic():
            rating = Rating.objects.create(case=case, matter=case.matter,
                                           department=case.department, rater=actor,
                                           channel=channel, level=level, tags=tags,
                                           text=text.strip()[:2000])
    except IntegrityError:
        raise ValidationError({"case": [
            _("This case has already been rated on this channel.")]}) from None
    audit_log(actor=actor, action="services.rating.create", obj=rating,
              after={"case": case.number, "level": level, "channel": channel})
    if rating.is_bad:
        _open_rectification(rating)
    return rating


def _open_rectification(rating: Rating) -> Rectification:
    clock = clock_start(unit=ClockUnit.WORKDAYS, limit=settings.YIWANG_RECTIFICATION_DAYS)
    rectification = Rectification.objects.create(rating=rating, department=rating.department,
                                                 clock=clock)
    audit_log(actor=None, action="services.rectification.open", obj=rectification,
              after={"rating": rating.pk, "due_at": clock.due_at.isoformat()})
    from yiwang.accounts.models import User

    for user in User.objects.filter(is_active=True, org_unit=rating.department,
                                    groups__permissions__codename="handle_rectification"
                                    ).distinct():
        notify(recipient=user, template="rectification_opened",
               key=f"rectification:{rectification.pk}:opened",
               context={"number": rating.case.number if rating.case else "",
                        "level": str(RatingLevel(rating.level).label)},
               url=f"/services/rectifications/{rectification.pk}/")
    return rectification


def _step(*, actor: Any, rectification: Rectification, sources: set[str], perm: str,
          expected_revision: int | None) -> Rectification:
    locked = Rectification.objects.select_for_update(of=("self",)).select_related(
        "department", "clock", "rating").get(pk=rectification.pk)
    if not (policies.has_perm(actor, perm) and policies.in_scope(actor, locked.department.path)):
        raise PermissionDenied
    if expected_revision is not None and expected_revision != locked.revision:
        raise ValidationError(_("Someone else changed this rectification meanwhile; reload it."),
                              code="stale")
    if locked.status not in sources:
        raise ValidationError(_("Not possible while the rectification is “%(status)s”.")
                              % {"status": R(locked.status).label}, code="bad_state")
    locked.revision += 1
    return locked


def _save(locked: Rectification, *, actor: Any, action: str, before: str,
          reason: str = "") -> Rectification:
    locked.save()
    audit_log(actor=actor, action=f"services.rectification.{action}", obj=locked,
              before={"status": before}, after={"status": locked.status}, reason=reason)
    return locked


@transaction.atomic
def rectification_contact(*, actor: Any, rectification: Rectification, verification: str,
                          contact_note: str, expected_revision: int | None = None
                          ) -> Rectification:
    if not (verification.strip() and contact_note.strip()):
        raise ValidationError({"contact_note": [
            _("Record what was verified and how the applicant was contacted.")]})
    locked = _step(actor=actor, rectification=rectification, sources={R.OPEN},
                   perm="services.handle_rectification", expected_revision=expected_revision)
    before = locked.status
    locked.verification, locked.contact_note = verification.strip(), contact_note.strip()
    locked.status = R.CONTACTED
    return _save(locked, actor=actor, action="contact", before=before)


@transaction.atomic
def rectification_rectify(*, actor: Any, rectification: Rectification, result: str,
                          expected_revision: int | None = None) -> Rectification:
    if not result.strip():
        raise ValidationError({"result": [_("Describe what was rectified.")]})
    locked = _step(actor=actor, rectification=rectification, sources={R.CONTACTED},
                   perm="services.handle_rectification", expected_revision=expected_revision)
    before = locked.status
    locked.result = result.strip()
    locked.status = R.RECTIFIED
    return _save(locked, actor=actor, action="rectify", before=before)


@transaction.atomic
def rectification_callback(*, actor: Any, rectification: Rectification, level: int,
                           note: str = "", expected_revision: int | None = None
                           ) -> Rectification:
    """回访: the applicant's view of the rectification closes it."""
    if level not in RatingLevel.values:
        raise ValidationError({"level": [_("Choose one of the five levels.")]})
    locked = _step(actor=actor, rectification=rectification, sources={R.RECTIFIED},
                   perm="services.handle_rectification", expected_revision=expected_revision)
    before = locked.status
    locked.callback_level, locked.callback_note = level, note.strip()
    locked.status = R.CLOSED
    locked.closed_at = timezone.now()
    clock_stop(locked.clock)
    return _save(locked, actor=actor, action="callback", before=before)


@transaction.atomic
def rectification_appeal(*, actor: Any, rectification: Rectification, reason: str,
                         expected_revision: int | None = None) -> Rectification:
    """申诉: the department contests a mistaken or malicious rating."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Explain why the rating is mistaken.")]})
    locked = _step(actor=actor, rectification=rectification, sources={R.OPEN, R.CONTACTED},
                   perm="services.handle_rectification", expected_revision=expected_revision)
    before = locked.status
    locked.appeal_reason = reason.strip()
    locked.status = R.APPEALED
    return _save(locked, actor=actor, action="appeal", before=before, reason=reason)


@transaction.atomic
def rectification_decide_appeal(*, actor: Any, rectification: Rectification, uphold: bool,
                                decision: str, expected_revision: int | None = None
                                ) -> Rectification:
    """A supervisor decides: the rating is voided, or the rectification goes on."""
    if not decision.strip():
        raise ValidationError({"decision": [_("Give the reasons for the decision.")]})
    locked = _step(actor=actor, rectification=rectification, sources={R.APPEALED},
                   perm="services.decide_appeal", expected_revision=expected_revision)
    before = locked.status
    locked.appeal_decision = decision.strip()
    locked.appeal_decided_by = actor
    if uphold:
        locked.status = R.VOIDED
        locked.closed_at = timezone.now()
        clock_stop(locked.clock)
    else:
        locked.status = R.OPEN
    return _save(locked, actor=actor, action="decide_appeal", before=before, reason=decision)
