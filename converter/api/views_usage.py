"""/v2/stats and /v2/contracts: the usage figures the app keeps (services/usage.py) and the
team's quotas (services/quotas.py), in the vendor's places. Any member's key may read them,
as any member sees the team's usage page."""

import re
from calendar import monthrange
from datetime import date

from django.http import HttpRequest, JsonResponse

from converter.api.auth import require_api_key
from converter.api.http import endpoint, invalid_field
from converter.api.serializers import contract_json, stats_json
from converter.selectors import jobs_counted_for
from converter.services.quotas import max_file_bytes, month_start, quota_uses
from converter.services.retention import retention_days
from converter.services.usage import TOTALS, Period, usage_daily, usage_monthly

FILTERS = ("single", "all")
# The period in the path: its pattern, as the vendor documents it.
FORMATS = {"day": (r"(\d{4})-(\d{2})-(\d{2})", "yyyy-mm-dd"), "month": (r"(\d{4})-(\d{2})", "yyyy-mm"),
           "year": (r"(\d{4})", "yyyy")}
# date() ends at 9999-12-31, and a period's end is read as the next day's start.
FIRST_YEAR, LAST_YEAR = 1970, 9998


def _first_day(text: str, period: str) -> date:
    """The first day of the period that `text` names, or a 400 naming the period."""
    pattern, example = FORMATS[period]
    match = re.fullmatch(pattern, text, flags=re.ASCII)
    try:
        if match is None:
            raise ValueError
        year, month, day = [int(part) for part in match.groups()] + [1] * (3 - len(match.groups()))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError
        return date(year, month, day)
    except ValueError:
        raise invalid_field(period, f"Give the {period} as {example}, in the years {FIRST_YEAR} to "
                                    f"{LAST_YEAR}.") from None


def _jobs(request: HttpRequest, name: str):
    if name not in FILTERS:
        raise invalid_field("filter", "Must be “single” (this key's jobs) or “all” (the team's jobs).")
    return jobs_counted_for(request.team, request.api_key.pk if name == "single" else None)


def _daily(request: HttpRequest, period: Period, filter_name: str) -> JsonResponse:
    return JsonResponse(stats_json(usage_daily(_jobs(request, filter_name), period), TOTALS), safe=False)


@endpoint("GET", authenticate=require_api_key)
def stats_day(request: HttpRequest, day: str, filter: str):
    """One item: the day's figures."""
    first = _first_day(day, "day")
    return _daily(request, Period(first, first), filter)


@endpoint("GET", authenticate=require_api_key)
def stats_month(request: HttpRequest, month: str, filter: str):
    """One item per day of the month."""
    first = _first_day(month, "month")
    return _daily(request, Period(first, first.replace(day=monthrange(first.year, first.month)[1])), filter)


@endpoint("GET", authenticate=require_api_key)
def stats_year(request: HttpRequest, year: str, filter: str):
    """One item per month of the year."""
    rows = usage_monthly(_jobs(request, filter), _first_day(year, "year").year)
    return JsonResponse(stats_json(rows, TOTALS, by_month=True), safe=False)


@endpoint("GET", authenticate=require_api_key)
def contracts(request: HttpRequest):
    """One contract: the team's quotas, with this month's use (always 200: a team always has one)."""
    team = request.team
    contract = contract_json(team, quota_uses(team), period_start=month_start(),
                             max_file_bytes=max_file_bytes(team), retention_days=retention_days(team))
    return JsonResponse([contract], safe=False)
