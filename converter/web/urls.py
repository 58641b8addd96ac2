from django.contrib.auth import views as auth_views
from django.urls import path

from converter.web import downloads, teams, views_auth, views_convert, views_jobs, views_usage

urlpatterns = [
    path("", views_convert.convert, name="convert"),
    path("options/validate/", views_convert.options_validate, name="options_validate"),
    path("presets/apply/", views_convert.preset_apply, name="preset_apply"),
    path("presets/save/", views_convert.preset_save, name="preset_save"),
    path("history/", views_jobs.history, name="history"),
    path("jobs/<uuid:job_id>/", views_jobs.job_detail, name="job_detail"),
    path("jobs/<uuid:job_id>/status/", views_jobs.job_status, name="job_status"),
    path("jobs/<uuid:job_id>/cancel/", views_jobs.job_cancel, name="job_cancel"),
    path("outputs/<uuid:output_id>/download", downloads.output_download, name="output_download"),
    path("outputs/<uuid:output_id>/play", downloads.output_play, name="output_play"),
    path("teams/switch/", teams.team_switch, name="team_switch"),
    path("settings/usage/", views_usage.team_usage, name="team_usage"),
    path("signup/", views_auth.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(template_name="auth/login.html",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
