"""一网统管: the dispatch catalog (派单目录) and every appeal or city event (``Event``).

Names follow the glossary: ``Event`` (民生诉求 / 工单), channel (来源渠道), dispatch /
handler (分拨 / 承办单位), supervise / escalate / summon / consult (督办 / 提级 / 吹哨报到 /
会商), return / reassign / extend (退回 / 改派 / 延期), external loop (内外双循环),
callback / satisfaction (回访 / 满意度).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField

# --- dispatch catalog ---------------------------------------------------------------------


class CatalogStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class DispatchCatalog(models.Model):
    """One version of the district's dispatch catalog; exactly one is published."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(_("status"), max_length=10, choices=CatalogStatus.choices,
                              default=CatalogStatus.DRAFT)
    note = models.TextField(_("what changed"), blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    scope_path_lookup = ""  # district-wide reference data

    class Meta:
        verbose_name = _("dispatch catalog")
        ordering = ["-number"]
        permissions = [("manage_catalog", _("Can maintain the dispatch catalog"))]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"


class HandlerType(models.TextChoices):
    TERRITORIAL = "territorial", _("Territorial (street / community)")
    FUNCTIONAL = "functional", _("Functional department")
    ENTERPRISE = "enterprise", _("Enterprise (utility, carrier)")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class Category(models.Model):
    """A node of the catalog; only level-3 items are dispatched."""

    catalog = models.ForeignKey(DispatchCatalog, on_delete=models.CASCADE,
                                related_name="categories")
    code = models.CharField(_("code"), max_length=12)
    level = models.PositiveSmallIntegerField(_("level"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    handler_type = models.CharField(_("handler type"), max_length=12, blank=True,
                                    choices=HandlerType.choices)
    default_handler = models.CharField(_("default handler"), max_length=100, blank=True)
    handler_unit = models.ForeignKey("core.OrgUnit", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("handling unit"))
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices,
                               default=Urgency.NORMAL)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    appeal_types = models.JSONField(_("typical appeal types"), default=list, blank=True)
    external_loop = models.BooleanField(
        _("external loop first (内外双循环)"), default=False,
        help_text=_("A registered responsible party is asked to fix it before the department."))
    auto_dispatch_threshold = models.FloatField(
        _("auto-dispatch confidence"), null=True, blank=True,
        help_text=_("Classification confidence needed to dispatch without a dispatcher; "
                    "empty: the district default."))
    active = models.BooleanField(default=True)

    scope_path_lookup = ""

    class Meta:
        verbose_name = _("dispatch category")
        verbose_name_plural = _("dispatch categories")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["catalog", "code"],
                                               name="category_code_once_per_catalog")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_dispatchable(self) -> bool:
        return self.level == 3 and self.active


# --- events -------------------------------------------------------------------------------


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("12345 hotline")
    GRID = "grid", _("Grid worker")
    OPINION = "opinion", _("Online opinion")
    VIDEO_AI = "video_ai", _("Video AI")
    PORTAL = "portal", _("Portal")
    OPEN311 = "open311", _("Open311 client")


class AppealType(models.TextChoices):
    CONSULT = "consult", _("Consultation (咨询)")
    HELP = "help", _("Request for help (求助)")
    COMPLAINT = "complaint", _("Complaint (投诉)")
    REPORT = "report", _("Report (举报)")
    SUGGESTION = "suggestion", _("Suggestion (建议)")


APPEAL_TYPE_BY_CHINESE = {"咨询": AppealType.CONSULT, "求助": AppealType.HELP,
                          "投诉": AppealType.COMPLAINT, "举报": AppealType.REPORT,
                          "建议": AppealType.SUGGESTION}


class EventStatus(models.TextChoices):
    RECEIVED = "received", _("Received, waiting for dispatch")
    EXTERNAL = "external", _("With the responsible party (external loop)")
    DISPATCHED = "dispatched", _("Dispatched, waiting for sign-off")
    ACCEPTED = "accepted", _("Signed for by the handler")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved, waiting for callback")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another event")


OPEN_STATUSES = (EventStatus.RECEIVED, EventStatus.EXTERNAL, EventStatus.DISPATCHED,
                 EventStatus.ACCEPTED, EventStatus.IN_PROGRESS)
FINAL_STATUSES = (EventStatus.CLOSED, EventStatus.MERGED)


class DispatchLevel(models.TextChoices):
    DISTRICT = "district", _("District dispatch centre")
    STREET = "street", _("Street dispatch centre")
    COMMUNITY = "community", _("Community / grid")
    DEPARTMENT = "department", _("Functional department")
    ENTERPRISE = "enterprise", _("Enterprise")


class TimeState(models.TextChoices):
    NORMAL = "normal", _("On time")
    WARNING = "warning", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


class Satisfaction(models.IntegerChoices):
    SATISFIED = 3, _("Satisfied")
    BASICALLY = 2, _("Basically satisfied")
    DISSATISFIED = 1, _("Dissatisfied")


class Event(models.Model):
    """One appeal or city-management event, from any channel, through its whole life."""

    number = models.CharField(_("event number"), max_length=32, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices,
                               db_index=True)
    # The sender's own id: hotline call id, Open311 token, opinion URL hash, camera+type
    # window. Unique per channel, so a repeated delivery is recognised and changes nothing.
    source_ref = models.CharField(max_length=200, blank=True)
    appeal_type = models.CharField(_("appeal type"), max_length=12,
                                   choices=AppealType.choices)
    urgent = models.BooleanField(_("urgent"), default=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="events", verbose_name=_("category"))
    suggestions = models.JSONField(_("classification suggestions"), default=list, blank=True)
    confidence = models.FloatField(_("classification confidence"), null=True, blank=True)
    # location
    address = models.CharField(_("address"), max_length=300, blank=True)
    address_normalized = models.CharField(_("normalised address"), max_length=300,
                                          blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    location_unit = models.ForeignKey(
        "core.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("located in"), help_text=_("The finest unit (grid or community)."))
    street = models.ForeignKey("core.OrgUnit", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("street"))
    location_missing = models.BooleanField(_("location needs checking"), default=False)
    # reporter
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="reported_events")
    reporter_name = models.CharField(_("reporter name"), max_length=100, blank=True)
    reporter_phone = EncryptedTextField(_("reporter phone"), blank=True)
    reporter_phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    intake_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    # handling
    status = models.CharField(_("status"), max_length=12, choices=EventStatus.choices,
                              default=EventStatus.RECEIVED)
    dispatch_unit = models.ForeignKey(
        "core.OrgUnit", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("dispatch centre"),
        help_text=_("The dispatch centre whose queue the event is in or came from."))
    handler_unit = models.ForeignKey("core.OrgUnit", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("lead handler"))
    dispatch_level = models.CharField(_("dispatch level"), max_length=10, blank=True,
                                      choices=DispatchLevel.choices)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("handled by"))
    response_clock = models.OneToOneField("core.Clock", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    clock = models.OneToOneField("core.Clock", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    time_state = models.CharField(_("time state"), max_length=8, choices=TimeState.choices,
                                  default=TimeState.NORMAL)
    resolution = models.TextField(_("result"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True,
                                                    blank=True, choices=Satisfaction.choices)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)
    return_count = models.PositiveSmallIntegerField(_("returned"), default=0)
    reassign_count = models.PositiveSmallIntegerField(_("reassigned"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("extensions granted"), default=0)
    # 直接办结: answered or fixed at intake (a 咨询 from the knowledge base, a grid worker's
    # 自处置); no unit handled it, so the handling figures leave it out.
    on_spot = models.BooleanField(_("resolved at intake (直接办结)"), default=False)
    escalated = models.BooleanField(_("escalated"), default=False)
    supervised = models.BooleanField(_("under supervision (督办)"), default=False)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged_events")
    external_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("For an internal enforcement event: the external-loop event before it."))
    received_at = models.DateTimeField(_("received"), db_index=True)
    responded_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    scope_path_lookup = ("dispatch_unit__path", "handler_unit__path", "location_unit__path")
    owner_lookup = "reporter"

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-received_at"]
        permissions = [
            ("intake_event", _("Can register events (hotline, grid, imports)")),
            ("dispatch_event", _("Can dispatch, reassign and decide returns")),
            ("handle_event", _("Can sign for, handle and resolve events")),
            ("callback_event", _("Can call citizens back")),
            ("supervise_event", _("Can supervise, urge and escalate")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "source_ref"],
                                    condition=~models.Q(source_ref=""),
                                    name="event_source_ref_once_per_channel"),
        ]
        indexes = [
            models.Index(fields=["dispatch_unit", "status", "received_at"]),
            models.Index(fields=["handler_unit", "status", "time_state"]),
            models.Index(fields=["street", "received_at"]),
            models.Index(fields=["category", "received_at"]),
            models.Index(fields=["reporter_phone_index", "received_at"]),
            # The events map (``events.eventmap``): open events answer from the index
            # alone, and so do the few without a location (未定位). Key columns, not
            # INCLUDE, which SQLite lacks.
            models.Index(fields=["received_at", "lon", "lat", "status", "time_state",
                                 "dispatch_unit", "handler_unit", "location_unit", "category",
                                 "channel"], name="event_open_map_idx",
                         condition=models.Q(status__in=OPEN_STATUSES)),
            models.Index(fields=["received_at", "id", "status", "time_state", "dispatch_unit",
                                 "handler_unit", "location_unit", "category", "channel"],
                         name="event_unlocated_idx", condition=models.Q(lat__isnull=True)),
            # The figures: what changed since the rollup's watermark (few rows).
            models.Index(fields=["updated_at"], name="event_updated_at_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead (主办)")
    CO = "co", _("Co-handler (协办)")


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for sign-off")
    ACCEPTED = "accepted", _("Signed for")
    DONE = "done", _("Done")
    RETURNED = "returned", _("Returned")
    WITHDRAWN = "withdrawn", _("Withdrawn (reassigned)")


class Assignment(models.Model):
    """One unit's share of an event: the lead (主办) or a co-handler (协办)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=4, choices=AssignmentRole.choices)
    level = models.CharField(max_length=10, choices=DispatchLevel.choices)
    status = models.CharField(max_length=10, choices=AssignmentStatus.choices,
                              default=AssignmentStatus.PENDING)
    note = models.TextField(blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    scope_path_lookup = "unit__path"

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["unit", "status"])]

    def __str__(self) -> str:
        return f"{self.event_id} {self.role} {self.unit_id}"


class EventUpdate(models.Model):
    """One step of an event's timeline; ``public`` steps are shown to the citizen and to
    Open311 clients (``servicerequestupdates``)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="updates")
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("core.OrgUnit", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    note = models.TextField(blank=True)
    public = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.action}"


class EventAttachment(models.Model):
    """A photo or document of an event (report, after-photo, result)."""

    class Stage(models.TextChoices):
        REPORT = "report", _("Reported")
        HANDLING = "handling", _("Handling")
        RESULT = "result", _("Result")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attachments")
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.REPORT)
    file = models.FileField(upload_to="events/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ReturnRequest(models.Model):
    """退单: a handler sends an event back; the dispatcher agrees or disputes it (the
    dispute is reviewed by a supervisor, whose decision is final)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="returns")
    unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    status = models.CharField(max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING)
    disputed = models.BooleanField(default=False)
    decision = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"return of {self.event_id} by {self.unit_id}"


class ExtensionRequest(models.Model):
    """延期: the handler asks for more time; the dispatcher decides."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField()
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    status = models.CharField(max_length=10, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decision = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"extension of {self.event_id} by {self.days} days"


class Summons(models.Model):
    """吹哨报到 / 会商: a unit calls others to respond by a deadline."""

    class Kind(models.TextChoices):
        SUMMONS = "summons", _("Summons (吹哨报到)")
        CONSULTATION = "consult", _("Consultation (会商)")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="summonses")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    caller_unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT,
                                    related_name="+")
    subject = models.TextField()
    due_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.event_id}"


class SummonsResponse(models.Model):
    summons = models.ForeignKey(Summons, on_delete=models.CASCADE, related_name="responses")
    unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="+")
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    responded_at = models.DateTimeField(null=True, blank=True)

    scope_path_lookup = "unit__path"

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["summons", "unit"],
                                               name="one_response_per_unit")]

    def __str__(self) -> str:
        return f"response of {self.unit_id} to summons {self.summons_id}"


class Supervision(models.Model):
    """督办: a warning before the deadline, an urging notice after it, an escalation."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning before the deadline")
        URGE = "urge", _("Urging notice (催办)")
        ESCALATE = "escalate", _("Escalation (提级)")
        SUPERVISE = "supervise", _("Supervision (督办)")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="supervisions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    unit = models.ForeignKey("core.OrgUnit", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    rule = models.CharField(max_length=80, blank=True)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(
            fields=["event", "kind", "rule"], condition=~models.Q(rule=""),
            name="automatic_supervision_once_per_rule")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.event_id}"


class ResponsibleParty(models.Model):
    """A social party responsible for a place (物业, shop, construction site): under 内外双循环
    it is asked first."""

    class Kind(models.TextChoices):
        PROPERTY = "property", _("Property management company")
        SHOP = "shop", _("Shop")
        SITE = "site", _("Construction site")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    credit_code = models.CharField(_("credit code"), max_length=18, blank=True)
    contact_name = models.CharField(_("contact"), max_length=100, blank=True)
    phone = EncryptedTextField(_("phone"))
    unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("community or street"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="parties")
    active = models.BooleanField(default=True)

    scope_path_lookup = "unit__path"

    class Meta:
        verbose_name = _("responsible party")
        verbose_name_plural = _("responsible parties")

    def __str__(self) -> str:
        return self.name


class ExternalTask(models.Model):
    """The external loop: the party gets an SMS link (a secret token) to respond."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FIXED = "fixed", _("Reported fixed")
        EXPIRED = "expired", _("Not fixed in time")

    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="external_task")
    party = models.ForeignKey(ResponsibleParty, on_delete=models.PROTECT, related_name="tasks")
    token = EncryptedTextField()  # kept to resend the link; looked up by its hash
    token_hash = models.CharField(max_length=64, unique=True)
    due_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENT)
    response = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    internal_event = models.OneToOneField(Event, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"external task of {self.event_id} ({self.status})"


class Callback(models.Model):
    """回访: the citizen's verdict on a resolved event (SMS link, portal or a clerk's call)."""

    class Method(models.TextChoices):
        SMS = "sms", _("SMS link")
        PORTAL = "portal", _("Portal")
        PHONE = "phone", _("Phone call")
        OPEN311 = "open311", _("Open311 client")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="callbacks")
    round = models.PositiveSmallIntegerField(default=1)
    method = models.CharField(max_length=8, choices=Method.choices)
    satisfaction = models.PositiveSmallIntegerField(choices=Satisfaction.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "round"],
                                               name="one_callback_per_round")]

    def __str__(self) -> str:
        return f"callback {self.round} of {self.event_id}"


class ClientSystem(models.Model):
    """An Open311 (or webhook) client system with its API key, issued by an admin."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=[("open311", "Open311"),
                                                    ("video_ai", "Video AI webhook"),
                                                    ("opinion", "Online opinion feed")])
    key_prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    unit = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    scope_path_lookup = "unit__path"

    def __str__(self) -> str:
        return self.name


class HistoryImport(models.Model):
    """One file of closed historical events being (or having been) imported: the
    checkpoint that lets an interrupted import resume where its last batch committed."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running or interrupted")
        DONE = "done", _("Done")

    file_sha256 = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(_("file"), max_length=300)
    format = models.CharField(max_length=8)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    rows_done = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("events created"), default=0)
    duplicates = models.PositiveIntegerField(_("already imported"), default=0)
    error_count = models.PositiveIntegerField(_("rows refused"), default=0)
    errors = models.JSONField(default=list, blank=True)  # the first ones: row, field, reason
    batches = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    scope_path_lookup = ""  # district-wide

    class Meta:
        verbose_name = _("historical event import")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status}, {self.rows_done} rows)"


class ClassifierModel(models.Model):
    """A trained classification model of this deployment, with its version and metrics."""

    version = models.PositiveIntegerField(unique=True)
    catalog = models.ForeignKey(DispatchCatalog, on_delete=models.PROTECT, related_name="+")
    trained_at = models.DateTimeField(auto_now_add=True)
    training_size = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    blob = models.BinaryField()
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"classifier v{self.version}"


# --- figures rollup -----------------------------------------------------------------------


class EventDayFigures(models.Model):
    """The figures (考核指标) of settled events, per local day of receipt, unit, street,
    category and channel (``events.figures``).

    An event is settled when it is closed or merged and did not change after the rollup's
    watermark (``EventFiguresWatermark``); ``unit`` is the unit a fact is counted for: the
    lead handler for the event's own figures, the returning unit for a 退单, the unit the
    event was taken from for a 改派 (so one event may add to several rows).
    """

    day = models.DateField()
    unit = models.ForeignKey("core.OrgUnit", null=True, on_delete=models.CASCADE,
                             related_name="+")
    street = models.ForeignKey("core.OrgUnit", null=True, on_delete=models.CASCADE,
                               related_name="+")
    category = models.ForeignKey(Category, null=True, on_delete=models.CASCADE,
                                 related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    received = models.PositiveIntegerField(default=0)  # not merged
    merged = models.PositiveIntegerField(default=0)
    on_spot = models.PositiveIntegerField(default=0)
    response_due = models.PositiveIntegerField(default=0)
    responded_on_time = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)  # received − 直接办结
    resolved = models.PositiveIntegerField(default=0)
    resolved_on_time = models.PositiveIntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)  # Σ (resolved − received)
    callbacks = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)  # 满意 + 基本满意
    reopened = models.PositiveIntegerField(default=0)
    extensions = models.PositiveIntegerField(default=0)
    returns = models.PositiveIntegerField(default=0)
    reassigns = models.PositiveIntegerField(default=0)

    scope_path_lookup = "unit__path"

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["day"], name="event_day_figures_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.unit_id}/{self.street_id}/{self.category_id}/{self.channel}"


class EventFiguresWatermark(models.Model):
    """One row: ``EventDayFigures`` holds what was settled up to ``settled_through``."""

    settled_through = models.DateTimeField()
    refreshed_at = models.DateTimeField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"settled through {self.settled_through:%Y-%m-%d %H:%M}"
