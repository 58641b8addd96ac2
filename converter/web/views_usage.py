"""Settings → usage: the team's quotas as bars, and what it converted lately, per day and per member."""

from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from converter.services.quotas import max_file_bytes, quota_uses
from converter.services.retention import retention_days
from converter.services.usage import Period, usage_by_user, usage_daily, usage_totals
from converter.web.teams import team_required
from converter.web.usage_chart import daily_chart

PERIODS = (7, 30, 90)


@team_required
@require_GET
def team_usage(request: HttpRequest):
    days = int(request.GET["days"]) if request.GET.get("days") in map(str, PERIODS) else 30
    period = Period.last_days(days)
    jobs = period.jobs(request.team.jobs.all())
    daily = usage_daily(request.team.jobs.all(), period)
    context = {
        "quotas": quota_uses(request.team),
        "max_file_bytes": max_file_bytes(request.team),
        "retention_days": retention_days(request.team),
        "periods": PERIODS, "days": days, "period": period,
        "totals": usage_totals(jobs),
        "members": usage_by_user(jobs),
        "charts": [daily_chart(daily, "jobs", f"Jobs per day, last {days} days", "jobs"),
                   daily_chart(daily, "audio_seconds", f"Audio minutes per day, last {days} days",
                               "minutes", scale=60)],
    }
    return render(request, "usage/team.html", context)
