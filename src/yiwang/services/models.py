"""一网通办: the catalog of service matters (with versions) and the cases filed for them.

Names follow the glossary: ``Matter`` (政务服务事项), ``MatterVersion`` (one version of its
implementation list, 实施清单), ``Material`` (申请材料), ``Case`` (办件), ``Rating`` (好差评).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# --- catalog ----------------------------------------------------------------------------


class MatterType(models.TextChoices):
    """事项类型 per the national implementation-list standard; local codes may be added
    (``MATTER_TYPE_EXTRA`` in settings) as long as they are two digits."""

    ADMIN_POWER = "00", _("Administrative power (other)")
    LICENSE = "01", _("Administrative licence")
    PENALTY = "02", _("Administrative penalty")
    COERCION = "03", _("Administrative coercion")
    LEVY = "04", _("Administrative levy")
    BENEFIT = "05", _("Administrative benefit")
    INSPECTION = "06", _("Administrative inspection")
    CONFIRMATION = "07", _("Administrative confirmation")
    REWARD = "08", _("Administrative reward")
    ADJUDICATION = "09", _("Administrative adjudication")
    OTHER_POWER = "10", _("Other administrative power")
    PUBLIC_SERVICE = "20", _("Public service")


class ExerciseLevel(models.TextChoices):
    NATIONAL = "1", _("National")
    PROVINCIAL = "2", _("Provincial")
    MUNICIPAL = "3", _("Municipal")
    DISTRICT = "4", _("District")
    STREET = "5", _("Street")
    COMMUNITY = "6", _("Community")


class ServiceObject(models.TextChoices):
    PERSON = "person", _("Natural person")
    ENTERPRISE = "enterprise", _("Enterprise legal person")
    INSTITUTION = "institution", _("Public institution")
    SOCIAL_ORG = "social_org", _("Social organisation")
    UNINCORPORATED = "unincorporated", _("Unincorporated enterprise")
    AGENCY = "agency", _("Government agency")
    OTHER = "other", _("Other organisation")


class CaseKind(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediate (decided on the spot)")
    PROMISED = "promised", _("Promised (decided within a promised limit)")


class LimitUnit(models.TextChoices):
    WORKDAYS = "workdays", _("working days")
    DAYS = "days", _("calendar days")
    HOURS = "hours", _("hours")


class HandlingForm(models.TextChoices):
    WINDOW = "window", _("At a window")
    PC = "pc", _("Online (PC)")
    MOBILE = "mobile", _("On the phone (指尖办)")
    POST = "post", _("By post")
    SELF_SERVICE = "self_service", _("Self-service terminal")


class OnlineDepth(models.IntegerChoices):
    OFFLINE = 1, _("Level 1: information online, handled offline")
    DOWNLOAD = 2, _("Level 2: forms online, submitted offline")
    PRE_REVIEW = 3, _("Level 3: submitted and pre-reviewed online, one visit")
    FULL = 4, _("Level 4: handled fully online (全程网办)")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEWED = "reviewed", _("Reviewed")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Theme(models.Model):
    """A life event or enterprise-lifecycle theme (生育, 入学, 开办企业 …)."""

    class Audience(models.TextChoices):
        PERSON = "person", _("Citizens")
        ENTERPRISE = "enterprise", _("Enterprises")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices)
    sort_order = models.PositiveSmallIntegerField(default=0)

    scope_path_lookup = ""  # district-wide reference data

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["audience", "sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Matter(models.Model):
    """A service matter of one implementing department; its content lives in versions.

    ``published`` points at the version in force; cases keep the version they were filed
    under, so publishing a new version never changes a filed case.
    """

    implementation_code = models.CharField(_("implementation code"), max_length=60, unique=True)
    department = models.ForeignKey("core.OrgUnit", verbose_name=_("implementing department"),
                                   on_delete=models.PROTECT, related_name="matters")
    name = models.CharField(_("name"), max_length=200, db_index=True)
    name_pinyin = models.CharField(max_length=200, blank=True, db_index=True, editable=False)
    published = models.OneToOneField("MatterVersion", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_path_lookup = "department__path"

    class Meta:
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        ordering = ["implementation_code"]
        permissions = [
            ("review_matter", _("Can review matter versions")),
            ("publish_matter", _("Can publish and retire matter versions")),
        ]

    def __str__(self) -> str:
        return self.name


class MatterVersion(models.Model):
    """One version of a matter's implementation list (GB/T 39046 elements)."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=VersionStatus.choices,
                              default=VersionStatus.DRAFT, db_index=True)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    change_note = models.TextField(_("what changed"), blank=True)
    # Identity
    name = models.CharField(_("name"), max_length=200)
    basic_code = models.CharField(_("basic code"), max_length=60)
    implementation_code = models.CharField(_("implementation code"), max_length=60)
    handling_item_code = models.CharField(_("handling item code"), max_length=80, blank=True)
    matter_type = models.CharField(_("matter type"), max_length=2, choices=MatterType.choices)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    exercise_level = models.CharField(_("exercise level"), max_length=1,
                                      choices=ExerciseLevel.choices,
                                      default=ExerciseLevel.DISTRICT)
    department = models.ForeignKey("core.OrgUnit", verbose_name=_("implementing department"),
                                   on_delete=models.PROTECT, related_name="+")
    service_objects = models.JSONField(_("service objects"), default=list, blank=True)
    themes = models.ManyToManyField(Theme, blank=True, related_name="versions",
                                    verbose_name=_("themes"))
    # Limits
    statutory_limit = models.PositiveIntegerField(_("statutory limit"), null=True, blank=True)
    statutory_unit = models.CharField(_("statutory limit unit"), max_length=10,
                                      choices=LimitUnit.choices, default=LimitUnit.WORKDAYS)
    promised_limit = models.PositiveIntegerField(_("promised limit"), default=0)
    promised_unit = models.CharField(_("promised limit unit"), max_length=10,
                                     choices=LimitUnit.choices, default=LimitUnit.WORKDAYS)
    limit_note = models.TextField(_("note on limits"), blank=True)
    case_kind = models.CharField(_("case kind"), max_length=10, choices=CaseKind.choices)
    warning_days = models.PositiveSmallIntegerField(
        _("warn when this many working days are left"), default=2)
    # How it is handled
    handling_forms = models.JSONField(_("handling forms"), default=list, blank=True)
    online_depth = models.PositiveSmallIntegerField(_("online depth"),
                                                    choices=OnlineDepth.choices,
                                                    default=OnlineDepth.FULL)
    visits = models.PositiveSmallIntegerField(_("on-site visits"), default=0)
    visits_reason = models.CharField(_("reason for visits"), max_length=300, blank=True)
    has_fee = models.BooleanField(_("charges a fee"), default=False)
    fee_basis = models.TextField(_("fee basis"), blank=True)
    fee_standard = models.TextField(_("fee standard"), blank=True)
    acceptance_conditions = models.TextField(_("acceptance conditions"), blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True,
                             help_text=_("List of {name, description} in order."))
    result_name = models.CharField(_("result name"), max_length=200, blank=True)
    result_type = models.CharField(_("result type"), max_length=50, blank=True)
    result_sample = models.FileField(_("result sample"), upload_to="matters/samples/",
                                     blank=True)
    locations = models.JSONField(_("handling locations"), default=list, blank=True)
    hours = models.CharField(_("office hours"), max_length=200, blank=True)
    consult_phone = models.CharField(_("consultation phone"), max_length=50, blank=True)
    complaint_phone = models.CharField(_("complaint phone"), max_length=50, blank=True)
    faq = models.JSONField(_("FAQ"), default=list, blank=True, help_text=_("List of {q, a}."))
    # Flags
    deficiency_allowed = models.BooleanField(_("accepts with deficiencies (容缺)"),
                                             default=False)
    supplement_days = models.PositiveSmallIntegerField(
        _("working days to supplement deficient materials"), default=5)
    deficiency_expiry_action = models.CharField(
        _("when the supplement deadline passes"), max_length=10, default="terminate",
        choices=[("remind", _("Remind the applicant only")),
                 ("terminate", _("Remind, then terminate the case"))])
    commitment_allowed = models.BooleanField(_("commitment approval (告知承诺)"),
                                             default=False)
    cross_region = models.BooleanField(_("cross-region (跨域通办)"), default=False)
    citywide = models.BooleanField(_("handled anywhere in the city (全市域通办)"),
                                   default=False)
    appointment = models.BooleanField(_("appointment available"), default=False)
    postal_delivery = models.BooleanField(_("postal delivery available"), default=False)
    # The application form: a JSON Schema rendered as an accessible HTML form.
    translations = models.JSONField(
        _("translations"), default=dict, blank=True,
        help_text=_("Per language ('en', 'zh-hant'), the translated text fields, e.g. "
                    "{\"en\": {\"name\": \"...\", \"result_name\": \"...\"}}. "
                    "Missing zh-Hant text is converted from zh-Hans."))
    form_schema = models.JSONField(_("application form (JSON Schema)"), default=dict,
                                   blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)

    scope_path_lookup = "department__path"

    class Meta:
        verbose_name = _("matter version")
        verbose_name_plural = _("matter versions")
        ordering = ["matter", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["matter", "number"], name="matter_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class MaterialSource(models.TextChoices):
    UPLOAD = "upload", _("Uploaded by the applicant")
    LICENSE = "license", _("Electronic license")
    REGISTRY = "registry", _("Government data (registry)")


class Material(models.Model):
    version = models.ForeignKey(MatterVersion, on_delete=models.CASCADE,
                                related_name="materials")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    required = models.BooleanField(_("required"), default=True)
    condition = models.CharField(_("required when"), max_length=300, blank=True)
    originals = models.PositiveSmallIntegerField(_("originals"), default=0)
    copies = models.PositiveSmallIntegerField(_("copies"), default=0)
    issuer = models.CharField(_("issuing body"), max_length=200, blank=True)
    blank_form = models.FileField(_("blank form"), upload_to="matters/forms/", blank=True)
    sample = models.FileField(_("sample"), upload_to="matters/samples/", blank=True)
    source = models.CharField(_("source"), max_length=10, choices=MaterialSource.choices,
                              default=MaterialSource.UPLOAD)
    license_type = models.CharField(_("electronic license type"), max_length=80, blank=True)
    registry_field = models.CharField(_("registry field"), max_length=120, blank=True)
    may_be_deficient = models.BooleanField(_("may be supplied later (容缺)"), default=False)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["version", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="material_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


# --- cases ------------------------------------------------------------------------------


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    SUPPLEMENT = "supplement", _("Waiting for supplement (补正)")
    ACCEPTED = "accepted", _("Accepted")
    ACCEPTED_DEFICIENT = "accepted_deficient", _("Accepted with deficiencies (容缺受理)")
    REFUSED = "refused", _("Not accepted (不予受理)")
    UNDER_REVIEW = "under_review", _("Under review")
    SUSPENDED = "suspended", _("Suspended for a special procedure")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    DELIVERED = "delivered", _("Result delivered")
    CLOSED = "closed", _("Closed (办结)")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    TERMINATED = "terminated", _("Terminated")


FINAL_STATUSES = {CaseStatus.REFUSED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN,
                  CaseStatus.TERMINATED}


class Channel(models.TextChoices):
    PC = "pc", _("Online (PC)")
    MOBILE = "mobile", _("Mobile")
    WINDOW = "window", _("Window")
    POST = "post", _("Post")
    SELF_SERVICE = "self_service", _("Self-service terminal")


class TimeState(models.TextChoices):
    NORMAL = "normal", _("Normal")
    WARNING = "warning", _("Warning")
    OVERDUE = "overdue", _("Overdue")


class Case(models.Model):
    """One application for one matter (办件)."""

    number = models.CharField(_("case number"), max_length=32, unique=True)
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="cases")
    version = models.ForeignKey(MatterVersion, on_delete=models.PROTECT, related_name="cases",
                                verbose_name=_("matter version"))
    # The handling department and the unit whose window took the application in
    # (综合窗口: a street window accepts for many departments); both see the case.
    department = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT,
                                   related_name="cases", verbose_name=_("department"))
    intake_unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT,
                                    related_name="intake_cases", verbose_name=_("intake unit"))
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="cases", verbose_name=_("applicant"))
    applicant_name = models.CharField(_("applicant name"), max_length=200)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("filed by"))
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus.choices,
                              default=CaseStatus.DRAFT, db_index=True)
    form_data = models.JSONField(_("application data"), default=dict, blank=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="assigned_cases",
                                    verbose_name=_("assigned to"))
    clock = models.OneToOneField("core.Clock", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    deficiency_due_at = models.DateTimeField(_("supplement due"), null=True, blank=True)
    deficiency_reminded_at = models.DateTimeField(null=True, blank=True)
    time_state = models.CharField(_("time state"), max_length=8, choices=TimeState.choices,
                                  default=TimeState.NORMAL, db_index=True)
    delivery_method = models.CharField(_("delivery"), max_length=10, blank=True,
                                       choices=[("download", _("Download")),
                                                ("post", _("Post")),
                                                ("window", _("Window pickup"))])
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, db_index=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, db_index=True)
    # Optimistic lock: every transition bumps it; a stale form cannot win a race.
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_path_lookup = ("department__path", "intake_unit__path")
    owner_lookup = "applicant"

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        permissions = [
            ("accept_case", _("Can accept, refuse and ask for supplements at intake")),
            ("review_case", _("Can review cases, ask for supplements and suspend")),
            ("decide_case", _("Can approve or reject cases")),
            ("assign_case", _("Can assign cases within the department")),
            ("approve_extension", _("Can approve deadline extensions")),
        ]
        indexes = [
            models.Index(fields=["department", "status", "time_state"]),
            models.Index(fields=["intake_unit", "status"]),
            models.Index(fields=["matter", "submitted_at"]),
            models.Index(fields=["assigned_to", "status"]),
            models.Index(fields=["applicant", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class CaseEvent(models.Model):
    """One step of a case's timeline (what the applicant and staff see)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class CaseMaterialKind(models.TextChoices):
    MATERIAL = "material", _("Application material")
    SUPPLEMENT = "supplement", _("Supplement")
    RESULT = "result", _("Result document")


class CaseMaterial(models.Model):
    """A file supplied for a case, stored outside the web root and served only in scope."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(max_length=10, choices=CaseMaterialKind.choices,
                            default=CaseMaterialKind.MATERIAL)
    material = models.ForeignKey(Material, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    file = models.FileField(upload_to="cases/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class Deficiency(models.Model):
    """A material missing or to be corrected: 容缺 items and 补正 lists."""

    class Kind(models.TextChoices):
        DEFICIENT = "deficient", _("Accepted without it (容缺)")
        SUPPLEMENT = "supplement", _("To supplement or correct (补正)")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deficiencies")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    material = models.ForeignKey(Material, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    description = models.CharField(max_length=300)
    due_at = models.DateTimeField(null=True, blank=True)
    supplied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class Extension(models.Model):
    """A request to extend a case's limit (延长审批), decided by an approver."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField()
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.case_id} +{self.days}"




# --- 好差评 -------------------------------------------------------------------------------


class RatingLevel(models.IntegerChoices):
    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    BASICALLY_SATISFIED = 3, _("Basically satisfied")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")


BAD_LEVELS = {RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED}


class RatingChannel(models.TextChoices):
    PC = "pc", _("PC")
    MOBILE = "mobile", _("Mobile")
    QR = "qr", _("QR code")
    TABLET = "tablet", _("Hall tablet")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")


class Rating(models.Model):
    """A service rating (好差评): of a case, or of a window service without a case."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="ratings")
    matter = models.ForeignKey(Matter, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="ratings")
    department = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT,
                                   related_name="ratings", verbose_name=_("department"))
    window_staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="ratings")
    channel = models.CharField(_("channel"), max_length=10, choices=RatingChannel.choices)
    level = models.PositiveSmallIntegerField(_("rating"), choices=RatingLevel.choices)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    text = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    scope_path_lookup = "department__path"
    owner_lookup = "rater"

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at"]
        constraints = [
            # 一次一评、一事一评: one rating per case and channel.
            models.UniqueConstraint(fields=["case", "channel"], name="rating_once_per_channel",
                                    condition=models.Q(case__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} ({self.channel})"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONTACTED = "contacted", _("Applicant contacted")
    RECTIFIED = "rectified", _("Rectified")
    CLOSED = "closed", _("Closed after callback")
    APPEALED = "appealed", _("Appeal under review (申诉复核)")
    VOIDED = "voided", _("Rating voided on appeal")


class Rectification(models.Model):
    """整改 after a bad rating: verify, contact, rectify, call back; or appeal."""

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT,
                                  related_name="rectification")
    department = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT,
                                   related_name="rectifications")
    status = models.CharField(_("status"), max_length=10, choices=RectificationStatus.choices,
                              default=RectificationStatus.OPEN, db_index=True)
    clock = models.OneToOneField("core.Clock", on_delete=models.PROTECT, related_name="+")
    verification = models.TextField(_("verification"), blank=True)
    contact_note = models.TextField(_("contact with the applicant"), blank=True)
    result = models.TextField(_("rectification result"), blank=True)
    callback_level = models.PositiveSmallIntegerField(_("callback rating"), null=True,
                                                      blank=True, choices=RatingLevel.choices)
    callback_note = models.TextField(_("callback note"), blank=True)
    appeal_reason = models.TextField(_("appeal reason"), blank=True)
    appeal_decision = models.TextField(_("appeal decision"), blank=True)
    appeal_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=0)

    scope_path_lookup = "department__path"

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["-created_at"]
        permissions = [
            ("handle_rectification", _("Can handle rectifications of bad ratings")),
            ("decide_appeal", _("Can decide appeals against ratings")),
        ]

    def __str__(self) -> str:
        return f"rectification of rating {self.rating_id}"


# --- statistics rollup ----------------------------------------------------------------------


class CaseDayFigures(models.Model):
    """The statistics figures of settled cases, per local day of submission, department,
    intake unit, matter and channel.

    A case is settled when it is final (办结, refused, withdrawn, terminated) and was
    closed before the rollup's watermark (``CaseFiguresWatermark``): nothing it counts
    can change any more. Its ratings are counted here when they are settled too (a good
    rating, or a bad one whose rectification is closed or voided). ``services.statistics``
    adds the live rest from ``Case`` and ``Rating``, so the figures are exact whenever
    the rollup was last refreshed (``statistics_refresh``, run periodically).
    """

    day = models.DateField()
    department = models.ForeignKey("core.OrgUnit", on_delete=models.CASCADE, related_name="+")
    intake_unit = models.ForeignKey("core.OrgUnit", on_delete=models.CASCADE,
                                    related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=12, choices=Channel.choices)
    cases = models.PositiveIntegerField(default=0)
    immediate = models.PositiveIntegerField(default=0)
    zero_visit = models.PositiveIntegerField(default=0)
    decided = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)  # accepted and decided
    handling_us = models.BigIntegerField(default=0)  # Σ (decided − accepted), microseconds
    ratings = models.PositiveIntegerField(default=0)  # not voided
    satisfied = models.PositiveIntegerField(default=0)
    bad = models.PositiveIntegerField(default=0)
    bad_rectified = models.PositiveIntegerField(default=0)

    scope_path_lookup = ("department__path", "intake_unit__path")

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["day", "department", "intake_unit", "matter",
                                            "channel"], name="case_day_figures_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}/{self.matter_id}/{self.channel}"


class CaseFiguresWatermark(models.Model):
    """One row: ``CaseDayFigures`` holds what was settled up to ``settled_through``."""

    settled_through = models.DateTimeField()
    refreshed_at = models.DateTimeField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"settled through {self.settled_through:%Y-%m-%d %H:%M}"
