from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("me/", views.me, name="me"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/phone", views.staff_phone, name="staff_phone"),
    path("staff/<int:pk>/deactivate", views.staff_deactivate, name="staff_deactivate"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke", views.token_revoke, name="token_revoke"),
]
