"""The org tree: district → street → community → grid, plus departments and the bureau."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.validators import validate_credit_code


class OrgKind(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")
    DEPARTMENT = "department", _("Department")
    BUREAU = "bureau", _("Bureau")
    ENTERPRISE = "enterprise", _("Public enterprise")


DIVISION_KINDS = {OrgKind.DISTRICT, OrgKind.STREET, OrgKind.COMMUNITY, OrgKind.GRID}
# Statistical division codes: 12 digits down to the community; grids add 3 digits.
DIVISION_CODE_LENGTH = {
    OrgKind.DISTRICT: 12,
    OrgKind.STREET: 12,
    OrgKind.COMMUNITY: 12,
    OrgKind.GRID: 15,
}
ALLOWED_PARENTS = {
    OrgKind.DISTRICT: set(),
    OrgKind.STREET: {OrgKind.DISTRICT},
    OrgKind.COMMUNITY: {OrgKind.STREET},
    OrgKind.GRID: {OrgKind.COMMUNITY},
    OrgKind.DEPARTMENT: {OrgKind.DISTRICT, OrgKind.DEPARTMENT},
    OrgKind.BUREAU: {OrgKind.DISTRICT},
    OrgKind.ENTERPRISE: {OrgKind.DISTRICT},
}


class OrgUnitQuerySet(models.QuerySet["OrgUnit"]):
    def subtree(self, unit: OrgUnit) -> OrgUnitQuerySet:
        return self.filter(path__startswith=unit.path)

    def divisions(self) -> OrgUnitQuerySet:
        return self.filter(kind__in=DIVISION_KINDS)


class OrgUnit(models.Model):
    """One node of the org tree.

    ``path`` is a materialised path of codes ("/440399000000/440399001000/"), so a
    unit's scope is one indexed ``startswith`` filter on any table that records it.
    """

    code = models.CharField(_("code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.PositiveIntegerField(default=0)
    # GeoJSON geometry (Polygon or MultiPolygon, WGS 84) and its bounding box for prefilters.
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    min_lon = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    centroid_lon = models.FloatField(null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = OrgUnitQuerySet.as_manager()
    scope_path_lookup = "path"

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [models.Index(fields=["kind", "path"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_division(self) -> bool:
        return self.kind in DIVISION_KINDS

    def contains(self, other: OrgUnit | None) -> bool:
        return other is not None and other.path.startswith(self.path)

    def ancestors(self) -> list[OrgUnit]:
        codes = [c for c in self.path.strip("/").split("/")][:-1]
        by_code = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        kind = OrgKind(self.kind)
        if kind in DIVISION_KINDS:
            length = DIVISION_CODE_LENGTH[kind]
            if not (self.code.isdigit() and len(self.code) == length):
                errors["code"] = _("A %(kind)s code has %(n)d digits.") % {
                    "kind": kind.label, "n": length}
            elif self.parent and not self.code.startswith(self.parent.code[: {
                    OrgKind.STREET: 6, OrgKind.COMMUNITY: 9, OrgKind.GRID: 12}.get(kind, 0)]):
                errors["code"] = _("The code must start with its parent's code.")
        else:
            try:
                validate_credit_code(self.code)
            except ValidationError as exc:
                errors["code"] = exc.messages
        parent_kind = OrgKind(self.parent.kind) if self.parent else None
        allowed = ALLOWED_PARENTS[kind]
        misplaced = parent_kind not in allowed if parent_kind is not None else bool(allowed)
        if misplaced:
            errors["parent"] = _("A %(kind)s cannot sit under this parent.") % {"kind": kind.label}
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        parent_path = self.parent.path if self.parent else "/"
        self.path = f"{parent_path}{self.code}/"
        self.depth = self.path.count("/") - 2
        super().save(*args, **kwargs)
