"""Team quotas, set by administrators on the Team (empty: no limit), enforced when a job is created.

The month is the calendar month in the site's time zone. Jobs count from their creation, audio
from completed jobs' outputs, and concurrency from jobs queued or running.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from converter.models import Job, Team
from converter.services.jobs import JobInvalid
from converter.services.usage import audio_duration_text

ACTIVE = (Job.Status.QUEUED, Job.Status.DOWNLOADING, Job.Status.PROCESSING)


class QuotaExceeded(JobInvalid):
    """A quota refuses the job; str() tells the user which and what to do. The API answers 402."""


def month_start(now: datetime | None = None) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def max_file_bytes(team: Team) -> int | None:
    return team.quota_max_file_mb * 1024**2 if team.quota_max_file_mb is not None else None


@dataclass(frozen=True)
class QuotaUse:
    """One quota with what is used of it, for the usage bars."""

    label: str
    used: float
    limit: int | None
    unit: str
    # What the user can do once it is reached.
    advice: str

    @property
    def percent(self) -> int:
        if not self.limit:
            return 100 if self.limit == 0 else 0
        return min(round(100 * self.used / self.limit), 100)

    @property
    def text(self) -> str:
        if self.unit == "minutes":  # audio: in the usage pages' one format, to the second
            used = audio_duration_text(self.used * 60)
            return f"{used} of {audio_duration_text(self.limit * 60)}" if self.limit is not None else used
        used = f"{self.used:g}"
        return f"{used} of {self.limit:,} {self.unit}" if self.limit is not None else f"{used} {self.unit}"


def quota_uses(team: Team, *, limited_only: bool = False) -> list[QuotaUse]:
    """This month's use of each quota (a quota without limit shows the use alone); limited_only:
    the quotas with a limit alone, so that checking a team without any counts nothing."""
    start = month_start()
    month = team.jobs.filter(created_at__gte=start)
    renews = f"It renews on {(start + timedelta(days=32)).replace(day=1):%B} 1."

    def audio_minutes() -> float:
        # Not rounded: its text is to the second, and 59.96 minutes is not yet a quota of 60.
        return (month.aggregate(seconds=Sum("audio_seconds"))["seconds"] or 0) / 60

    quotas = [
        ("Jobs this month", month.count, team.quota_jobs_per_month, "jobs", renews),
        ("Audio this month", audio_minutes, team.quota_audio_minutes_per_month, "minutes", renews),
        ("Jobs running at once", team.jobs.filter(status__in=ACTIVE).count, team.quota_concurrent_jobs,
         "jobs", "Wait for a running job to finish."),
    ]
    return [QuotaUse(label, used(), limit, unit, advice) for label, used, limit, unit, advice in quotas
            if limit is not None or not limited_only]


def quota_check_file(team: Team, name: str, size: int) -> None:
    limit = max_file_bytes(team)
    if limit is not None and size > limit:
        raise QuotaExceeded(f"“{name}” is {filesizeformat(size)}; your team's plan allows files up to "
                            f"{filesizeformat(limit)}.")


def quota_check(team: Team, files: list[tuple[str, int]] = ()) -> None:
    """Raise QuotaExceeded unless the team may create one more job with these (name, size) files."""
    for name, size in files:
        quota_check_file(team, name, size)
    for use in quota_uses(team, limited_only=True):
        if use.used >= use.limit:
            raise QuotaExceeded(f"Your team's quota is reached: {use.label.lower()}, {use.text}. "
                                f"{use.advice} An administrator can raise the quota.")
