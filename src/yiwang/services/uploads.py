"""Case materials: checked on the way in, stored outside the web root, served only in scope.

Nothing the browser says about a file is trusted: the type is sniffed from the content
(``puremagic``; an OFD is a ZIP container with ``OFD.xml`` at its root) and must be one
of ``settings.YIWANG_UPLOAD_TYPES``; a name whose extension disagrees with the content is
refused; the size is counted while the SHA-256 is computed. Files are stored by the
default storage (``VAR_DIR/media``, which no URL serves) under a random name, and every
write and every read is audited.
"""

from __future__ import annotations

import functools
import hashlib
import os
import zipfile
from dataclasses import dataclass
from typing import IO, Any

import puremagic
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from yiwang.core import policies
from yiwang.core.audit import audit_log
from yiwang.core.storage import discard_on_error, stored_file

__all__ = ["CheckedUpload", "discard_on_error", "material_attach", "upload_check"]

from .models import FINAL_STATUSES, Case, CaseMaterial, CaseMaterialKind, CaseStatus, Material

OFD = "application/ofd"
# Extensions people really use for a type, beyond the canonical one in settings.
EXTENSION_ALIASES = {"image/jpeg": {".jpg", ".jpeg", ".jpe", ".jfif"}}
STAFF_ATTACH_PERMS = ("services.add_case", "services.accept_case", "services.review_case")
STAFF_RESULT_PERMS = ("services.accept_case", "services.decide_case")
CHUNK = 64 * 1024


@dataclass(frozen=True)
class CheckedUpload:
    """What ``upload_check`` learnt from the content."""

    content_type: str
    extension: str
    size: int
    sha256: str
    original_name: str


def allowed_extensions(content_type: str) -> set[str]:
    return {settings.YIWANG_UPLOAD_TYPES[content_type], *EXTENSION_ALIASES.get(content_type, ())}


def accept_attribute() -> str:
    """The ``accept`` attribute of file inputs (a hint for pickers; the server decides)."""
    types = settings.YIWANG_UPLOAD_TYPES
    extensions = sorted({ext for t in types for ext in allowed_extensions(t)})
    return ",".join([*extensions, *settings.YIWANG_UPLOAD_TYPES])


def allowed_types_label() -> str:
    return "、".join(ext.lstrip(".").upper() for ext in settings.YIWANG_UPLOAD_TYPES.values())


def _sniff(stream: IO[bytes]) -> str | None:
    """The content type of ``stream`` from its bytes, or None when it is none we know."""
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return OFD if _is_ofd(stream) else "application/zip"
    try:
        matches = puremagic.magic_stream(stream)
    except (puremagic.PureError, ValueError):
        return None
    finally:
        stream.seek(0)
    # The strongest match wins; only types we accept matter, so look for those first.
    mimes = [m.mime_type for m in sorted(matches, key=lambda m: -m.confidence) if m.mime_type]
    for mime in mimes:
        if mime in settings.YIWANG_UPLOAD_TYPES:
            return mime
    return mimes[0] if mimes else None


def _is_ofd(stream: IO[bytes]) -> bool:
    """GB/T 33190: a ZIP package whose entry point ``OFD.xml`` sits at the root."""
    try:
        with zipfile.ZipFile(stream) as package:
            return "OFD.xml" in package.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        stream.seek(0)


def _clean_name(name: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable())
    return base[-200:] or "upload"


def upload_check(upload: Any) -> CheckedUpload:
    """Size, type and checksum of an uploaded file, or ValidationError({"file": […]}).

    Reads the file once in chunks; stores nothing.
    """
    limit = settings.YIWANG_UPLOAD_MAX_BYTES
    name = _clean_name(getattr(upload, "name", "") or "")
    too_large = ValidationError({"file": [
        _("“%(name)s” is larger than %(limit)s. Scan it at a lower resolution or split it.")
        % {"name": name, "limit": filesizeformat(limit)}]}, code="too_large")
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise too_large
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    for chunk in upload.chunks(CHUNK) if hasattr(upload, "chunks") else iter(
            lambda: upload.read(CHUNK), b""):
        size += len(chunk)
        if size > limit:
            raise too_large
        digest.update(chunk)
    if size == 0:
        raise ValidationError({"file": [_("“%(name)s” is empty.") % {"name": name}]},
                              code="empty")
    stream = upload.file if hasattr(upload, "file") else upload
    content_type = _sniff(stream)
    if content_type not in settings.YIWANG_UPLOAD_TYPES:
        raise ValidationError({"file": [
            _("“%(name)s” is not a file type we accept. Upload %(types)s.")
            % {"name": name, "types": allowed_types_label()}]}, code="bad_type")
    extension = os.path.splitext(name)[1].lower()
    if extension and extension not in allowed_extensions(content_type):
        raise ValidationError({"file": [
            _("“%(name)s” is named like a %(declared)s file but its content is %(actual)s. "
              "Rename it or export it again.")
            % {"name": name, "declared": extension.lstrip(".").upper(),
               "actual": settings.YIWANG_UPLOAD_TYPES[content_type].lstrip(".").upper()}]},
            code="extension_mismatch")
    if not extension:
        name = f"{name}{settings.YIWANG_UPLOAD_TYPES[content_type]}"
    upload.seek(0)
    return CheckedUpload(content_type=content_type,
                         extension=settings.YIWANG_UPLOAD_TYPES[content_type],
                         size=size, sha256=digest.hexdigest(), original_name=name)


# --- who may attach and read ------------------------------------------------------------


def _applicant_may_attach(actor: Any, case: Case, kind: str) -> bool:
    if case.applicant_id != actor.pk:
        return False
    if kind == CaseMaterialKind.MATERIAL:
        return case.status == CaseStatus.DRAFT
    if kind == CaseMaterialKind.SUPPLEMENT:
        return case.deficiencies.filter(supplied_at__isnull=True).exists()
    return False


def _staff_may_attach(actor: Any, case: Case, kind: str) -> bool:
    if getattr(actor, "kind", "") != "staff":
        return False
    perms = STAFF_RESULT_PERMS if kind == CaseMaterialKind.RESULT else STAFF_ATTACH_PERMS
    if not any(policies.has_perm(actor, p) for p in perms):
        return False
    return any(policies.in_scope(actor, unit.path)
               for unit in (case.department, case.intake_unit))


def may_attach(actor: Any, case: Case, kind: str = CaseMaterialKind.MATERIAL) -> bool:
    """The actor may add a file of this kind to the case now (for pages and checks)."""
    if not policies.is_active_actor(actor):
        return False
    if case.status in FINAL_STATUSES and kind != CaseMaterialKind.RESULT:
        return False
    return _applicant_may_attach(actor, case, kind) or _staff_may_attach(actor, case, kind)


@transaction.atomic
def material_attach(
    *, actor: Any, case: Case, upload: Any, material: Material | None = None,
    kind: str = CaseMaterialKind.MATERIAL,
) -> CaseMaterial:
    """Check and store one file for a case.

    The applicant attaches application materials to a draft and supplements while items
    are open (补正 / 容缺); staff in scope with ``services.add_case``, ``accept_case`` or
    ``review_case`` attach materials (result documents: ``accept_case`` or
    ``decide_case``). Uploading again for a material of a draft replaces the earlier file.
    """
    case = (Case.objects.select_for_update(of=("self",))
            .select_related("department", "intake_unit").get(pk=case.pk))
    kind = CaseMaterialKind(kind)
    if not may_attach(actor, case, kind):
        raise PermissionDenied
    if material is not None and material.version_id != case.version_id:
        raise ValidationError({"material": [
            _("This material does not belong to the case's matter.")]})
    checked = upload_check(upload)
    replaced = []
    if case.status == CaseStatus.DRAFT and kind == CaseMaterialKind.MATERIAL and material:
        replaced = list(case.materials.filter(kind=kind, material=material))
    with stored_file(folder="cases", upload=upload, extension=checked.extension) as name:
        attached = CaseMaterial.objects.create(
            case=case, kind=kind, material=material, file=name,
            original_name=checked.original_name, content_type=checked.content_type,
            size=checked.size, sha256=checked.sha256, uploaded_by=actor)
        for old in replaced:
            old_name = old.file.name
            old.delete()
            transaction.on_commit(functools.partial(default_storage.delete, old_name))
        audit_log(actor=actor, action="services.material.attach", obj=attached,
                  object_label=checked.original_name, scope_path=case.department.path,
                  after={"case": case.number, "kind": kind,
                         "material": material.code if material else "",
                         "content_type": checked.content_type, "size": checked.size,
                         "sha256": checked.sha256,
                         "replaced": [old.original_name for old in replaced]})
    return attached


def material_queryset_for(actor: Any) -> Any:
    """The case materials the actor may read: own cases, or cases in a staff scope."""
    cases = policies.restrict(Case.objects.all(), actor, "view")
    return CaseMaterial.objects.filter(case__in=cases)


def material_get(*, actor: Any, material_id: Any) -> CaseMaterial:
    """One readable case material, or 404 (nothing leaks about others' files)."""
    try:
        pk = int(material_id)
    except (TypeError, ValueError):
        raise Http404 from None
    found = (material_queryset_for(actor).select_related("case", "case__department")
             .filter(pk=pk).first())
    if found is None:
        raise Http404
    return found


def material_open(*, actor: Any, material: CaseMaterial) -> tuple[IO[bytes], CaseMaterial]:
    """Open a case material for the actor (404 outside scope); the read is audited."""
    material = material_get(actor=actor, material_id=material.pk)
    try:
        handle = default_storage.open(material.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    audit_log(actor=actor, action="services.material.read", obj=material,
              object_label=material.original_name, scope_path=material.case.department.path,
              after={"case": material.case.number, "sha256": material.sha256})
    return handle, material
