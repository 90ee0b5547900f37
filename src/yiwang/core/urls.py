from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("workbench/", views.workbench, name="workbench"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read", views.notification_read, name="notification_read"),
    path("notifications/read-all", views.notifications_read_all,
         name="notifications_read_all"),
    path("workbench/org/", views.org_tree, name="org_tree"),
    path("workbench/org/<str:code>/", views.org_detail, name="org_detail"),
    path("workbench/audit/", views.audit_list, name="audit_list"),
    path("workbench/audit/verify", views.audit_verify, name="audit_verify"),
    path("workbench/calendar/", views.calendar, name="calendar"),
    path("workbench/calendar/<int:pk>/delete", views.calendar_delete, name="calendar_delete"),
    path("workbench/calendar/deadline", views.deadline, name="deadline"),
    path("workbench/admin/", views.admin_home, name="admin_home"),
]
