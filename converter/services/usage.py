"""Usage: what a job records when it ends, and the sums the usage pages and the admin show.

The figures live on Job itself (one row per conversion, whatever front door or engine), so a
report is one aggregate query and the history and the usage can never disagree.
"""

import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, DateField, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from converter.models import Job, JobOutput

# What a report sums, by Job field; the same names serve the CSV columns.
TOTALS = {
    "jobs": Count("id"),
    "failed": Count("id", filter=Q(status=Job.Status.FAILED)),
    "input_bytes": Sum("input_bytes"),
    "output_bytes": Sum("output_bytes"),
    "audio_seconds": Sum("audio_seconds"),
    "processing_seconds": Sum("processing_seconds"),
    "spent": Sum("spent"),
}


def audio_duration_text(seconds: float | None) -> str:
    """Audio time as every usage figure shows it, to the second: "37 s", "2 min 30 s", "1 h 5 min".
    One format for the quota, the totals and the tables, which had said 0.6 minutes, 37 s and 1."""
    hours, rest = divmod(round(seconds or 0), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{value:,} {unit}" for value, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if value]
    return " ".join(parts) or "0 s"


def _output_seconds(output: JobOutput) -> float:
    """A FLAC's duration; a ZIP has none of its own, its members' durations add up."""
    if output.duration is not None:
        return output.duration
    members = (output.report or {}).get("members") or []
    return sum(member.get("duration") or 0 for member in members)


def usage_at_finish(job: Job, status: str, errors: list | None, finished_at: datetime,
                    outputs: list[JobOutput] | None = None) -> dict:
    """The usage fields of a job that ends now, written with its final status (services/jobs.py).
    outputs: the job's, when the caller has just made them (no query to read them back); the
    inputs come from the job's prefetched inputs when it has them (services/jobs.py job_run)."""
    if status != Job.Status.COMPLETED:
        outputs = []
    elif outputs is None:
        outputs = list(job.outputs.all())
    first_error = next(iter(errors or job.errors or []), {})
    return {
        # Inputs uploaded after creation (the API's upload-file) count too.
        "input_bytes": sum(job_input.size for job_input in job.inputs.all()),
        "output_bytes": sum(output.size for output in outputs),
        "audio_seconds": round(sum(_output_seconds(output) for output in outputs), 3),
        "processing_seconds": (round((finished_at - job.started_at).total_seconds(), 3)
                               if job.started_at else 0.0),
        "error_code": str(first_error.get("code") or "")[:64] if status == Job.Status.FAILED else "",
    }


@dataclass(frozen=True)
class Period:
    """Whole days, first and last included, in the site's time zone."""

    first: date
    last: date

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> "Period":
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def jobs(self, queryset: QuerySet[Job]) -> QuerySet[Job]:
        start = timezone.make_aware(datetime.combine(self.first, time.min))
        end = timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))
        return queryset.filter(created_at__gte=start, created_at__lt=end)


def _filled(row: dict) -> dict:
    return {name: row.get(name) or 0 for name in TOTALS} | {
        key: value for key, value in row.items() if key not in TOTALS}


def usage_totals(jobs: QuerySet[Job]) -> dict:
    return _filled(jobs.aggregate(**TOTALS))


def usage_daily(jobs: QuerySet[Job], period: Period) -> list[dict]:
    """One row per day of the period, days without jobs included (zeros)."""
    rows = {row["day"]: row for row in period.jobs(jobs).annotate(day=TruncDate("created_at"))
            .values("day").annotate(**TOTALS)}
    return [_filled(rows.get(day, {})) | {"day": day} for day in period.days]


def usage_monthly(jobs: QuerySet[Job], year: int) -> list[dict]:
    """One row per month of the year (`month` is its first day), months without jobs included."""
    period = Period(date(year, 1, 1), date(year, 12, 31))
    by_month = period.jobs(jobs).annotate(month=TruncMonth("created_at", output_field=DateField()))
    rows = {row["month"]: row for row in by_month.values("month").annotate(**TOTALS)}
    months = [date(year, month, 1) for month in range(1, 13)]
    return [_filled(rows.get(month, {})) | {"month": month} for month in months]


def usage_by_team(jobs: QuerySet[Job]) -> list[dict]:
    rows = jobs.values("team_id", name=F("team__name")).annotate(**TOTALS).order_by("-jobs", "name")
    return [_filled(row) for row in rows]


def usage_by_user(jobs: QuerySet[Job]) -> list[dict]:
    rows = (jobs.values("created_by_id", name=F("created_by__username"))
            .annotate(**TOTALS).order_by("-jobs", "name"))
    return [_filled(row) | {"name": row["name"] or "(deleted user)"} for row in rows]


def usage_csv(out, jobs: QuerySet[Job], period: Period) -> None:
    """Per day, per team and per user, one row each (`out` is any text file-like)."""
    writer = csv.writer(out)
    writer.writerow(["day", "team", "user", *TOTALS])
    rows = (period.jobs(jobs).annotate(day=TruncDate("created_at"))
            .values("day", team_name=F("team__name"), user=F("created_by__username"))
            .annotate(**TOTALS).order_by("day", "team_name", "user"))
    for row in rows:
        row = _filled(row)
        writer.writerow([row["day"].isoformat(), row["team_name"], row["user"] or "",
                         *(round(row[name], 3) if isinstance(row[name], float) else row[name]
                           for name in TOTALS)])
