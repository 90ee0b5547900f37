from django.contrib import admin

from .models import ApiToken, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("username", "name", "kind", "org_unit", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("username", "name")
    exclude = ("password", "id_number", "phone")
    readonly_fields = ("last_login", "date_joined")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "org_unit", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "secret_hash", "last_used_at", "last_used_ip")
