"""Django admin: oversight of teams (quotas, retention), members, API keys, jobs, their
callbacks, and usage.

Jobs are read-only here (they are written by services), with a cancel action; the usage page
(/admin/converter/job/usage/) sums jobs per team and per user for a date range, with a daily
chart and a CSV export.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from converter.models import ApiKey, CallbackDelivery, Job, JobInput, JobOutput, Membership, Team
from converter.services import usage
from converter.services.api_keys import key_revoke
from converter.services.callbacks import deliveries_resend
from converter.services.jobs import job_cancel
from converter.services.retention import retention_reschedule
from converter.web.usage_chart import daily_chart

MAX_PERIOD_DAYS = 366


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "personal", "default_engine", "retention_days", "quota_jobs_per_month",
                    "quota_audio_minutes_per_month", "quota_max_file_mb", "quota_concurrent_jobs"]
    list_filter = ["personal", "default_engine"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "personal", "default_engine", "created_at"]}),
        ("Quotas (empty: no limit)", {"fields": ["quota_jobs_per_month", "quota_audio_minutes_per_month",
                                                 "quota_max_file_mb", "quota_concurrent_jobs"]}),
        ("Retention", {"fields": ["retention_days"]}),
    ]
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "retention_days" in form.changed_data:
            retention_reschedule(obj)  # jobs already finished follow the new period


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "team__name"]
    autocomplete_fields = ["user", "team"]


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "team", "user", "created_at", "last_used_at", "usage_count",
                    "revoked_at"]
    list_filter = [RevokedFilter]
    search_fields = ["name", "prefix", "team__name", "user__username"]
    # The hash, salt and signing secret are never shown; keys are issued by their owners.
    fields = ["name", "prefix", "team", "user", "created_at", "last_used_at", "usage_count", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            key_revoke(key)
        self.message_user(request, f"{len(keys)} key(s) revoked.", messages.SUCCESS)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class JobInputInline(_ReadOnlyInline):
    model = JobInput
    fields = ["filename", "type", "source", "size", "content_type"]


class JobOutputInline(_ReadOnlyInline):
    model = JobOutput
    fields = ["download_name", "status", "size", "duration", "sample_rate", "bits_per_sample", "channels",
              "downloads_counter"]


class CallbackDeliveryInline(_ReadOnlyInline):
    model = CallbackDelivery
    fields = readonly_fields = ["status", "state", "attempts", "last_error", "created_at", "finished_at"]


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(admin.ModelAdmin):
    """The callbacks API jobs asked for: which arrived, which wait for their next attempt, which
    failed and why. Read-only: the worker and the reaper write them (services/callbacks.py)."""

    list_display = ["id", "job", "status", "state", "attempts", "due_at", "last_error", "created_at"]
    list_filter = ["state", "status"]
    search_fields = ["job__id"]
    date_hierarchy = "created_at"
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        """Who may cancel jobs may send their callbacks again."""
        return request.user.has_perm("converter.change_job")

    @admin.action(description="Send the selected failed callbacks again", permissions=["resend"])
    def send_again(self, request, queryset):
        count = deliveries_resend(queryset)
        self.message_user(request, f"{count} failed callback(s) sent again; the others are left as they are.",
                          messages.SUCCESS)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "created_by", "engine", "status", "created_at", "input_bytes",
                    "output_bytes", "audio_seconds", "processing_seconds", "spent", "error_code",
                    "expires_at", "expired"]
    list_filter = ["status", "engine", "unsent", "expired", "team"]  # unsent: queued, broker down
    list_select_related = ["team", "created_by"]
    search_fields = ["id", "inputs__filename", "outputs__download_name"]
    date_hierarchy = "created_at"
    inlines = [JobInputInline, JobOutputInline, CallbackDeliveryInline]
    actions = ["cancel"]
    change_list_template = "admin/converter/job/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        # Jobs are written by services; an edit here would bypass them.
        return [field.name for field in Job._meta.fields if field.name not in (
            "token", "remote_token", "remote_password_encrypted", "password_hashes")]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel the selected jobs", permissions=["change"])
    def cancel(self, request, queryset):
        running = list(queryset.exclude(status__in=Job.TERMINAL))
        for job in running:
            job_cancel(job)
        self.message_user(request, f"{len(running)} job(s) canceled or asked to stop.", messages.SUCCESS)

    def get_urls(self):
        usage = path("usage/", self.admin_site.admin_view(self.usage_view), name="converter_job_usage")
        return [usage, *super().get_urls()]

    def usage_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = UsageForm(request.GET or None)
        valid = form.is_bound and form.is_valid()
        period = form.period() if valid else usage.Period.last_days(30)
        team = form.cleaned_data["team"] if valid else None
        jobs = Job.objects.all() if team is None else Job.objects.filter(team=team)
        if request.GET.get("format") == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            name = f"usage-{period.first}-{period.last}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            usage.usage_csv(response, jobs, period)
            return response
        csv_query = request.GET.copy()
        csv_query["format"] = "csv"
        in_period = period.jobs(jobs)
        daily = usage.usage_daily(jobs, period)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": "Usage", "form": form, "period": period,
            "totals": usage.usage_totals(in_period), "teams": usage.usage_by_team(in_period),
            "users": usage.usage_by_user(in_period),
            "charts": [daily_chart(daily, "jobs", "Jobs per day", "jobs"),
                       daily_chart(daily, "audio_seconds", "Audio minutes per day", "minutes", scale=60)],
            "csv_query": csv_query.urlencode(),
        }
        return TemplateResponse(request, "admin/converter/usage.html", context)


class UsageForm(forms.Form):
    first = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.ModelChoiceField(Team.objects.order_by("name"), required=False, empty_label="All teams")

    def __init__(self, data=None):
        today = timezone.localdate()
        super().__init__(data, initial={"first": today - timedelta(days=29), "last": today})

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last and not timedelta(0) <= last - first < timedelta(days=MAX_PERIOD_DAYS):
            raise forms.ValidationError(f"The first day must come before the last, at most {MAX_PERIOD_DAYS} "
                                        "days apart.")
        return data

    def period(self) -> usage.Period:
        return usage.Period(self.cleaned_data["first"], self.cleaned_data["last"])
