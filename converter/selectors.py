"""Reads. Every query that a page or the API makes is scoped to a team here."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Case, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from converter import options
from converter.models import Api2convertAccount, Invite, Job, JobInput, JobOutput, Membership, Preset, Team


def teams_for(user) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user).order_by("-personal", "name")


def active_membership_for(user, team_id) -> Membership | None:
    """The user's membership, with its team, in the team the session picked (team_id), else in
    their first team as teams_for orders them: one query on every request of a signed-in user."""
    order = ["-team__personal", "team__name"]
    if team_id is not None:
        order.insert(0, Case(When(team_id=team_id, then=Value(0)), default=Value(1)))
    return Membership.objects.filter(user=user).select_related("team").order_by(*order).first()


def membership_for(user, team: Team) -> Membership | None:
    if not user.is_authenticated or team is None:
        return None
    return Membership.objects.filter(user=user, team=team).first()


def job_for(team: Team, job_id) -> Job:
    """The team's job, or 404: a job of another team does not exist for this caller."""
    return get_object_or_404(Job.objects.select_related("created_by"), pk=job_id, team=team)


def team_of_job_for(user, job_id) -> Team | None:
    """The team of the job, if the user is one of its members (whichever team is active)."""
    return Team.objects.filter(memberships__user=user, jobs__pk=job_id).first()


def job_by_id(job_id) -> Job:
    """Any team's job, or 404: for callers that then prove they hold the job's token (the API)."""
    return get_object_or_404(Job.objects.select_related("team", "created_by", "api_key"), pk=job_id)


def input_of_team(team: Team, input_id) -> JobInput | None:
    """An input of any of the team's jobs (the API's `input_id` inputs reuse one)."""
    return JobInput.objects.select_related("job").filter(pk=input_id, job__team=team).first()


def job_version(job: Job) -> str:
    """What a polled fragment was rendered from: every write on a job moves modified_at."""
    return f"{int(job.modified_at.timestamp() * 1_000_000)}.{job.status}"


def job_version_for(team_id: int, job_id) -> str | None:
    """The team's job's current version (see job_version), or None: one query on the primary key,
    nothing loaded that a poll of an unchanged job does not need."""
    job = Job.objects.filter(pk=job_id, team_id=team_id).only("modified_at", "status").first()
    return job_version(job) if job is not None else None


def _with_files(jobs: QuerySet[Job]) -> QuerySet[Job]:
    """Jobs with their creator, inputs and outputs: three queries for any number of jobs."""
    return jobs.select_related("created_by").prefetch_related(
        Prefetch("inputs", queryset=JobInput.objects.order_by("created_at")),
        Prefetch("outputs", queryset=JobOutput.objects.order_by("created_at")),
    )


def jobs_for_team(team: Team, limit: int = 50) -> QuerySet[Job]:
    return _with_files(Job.objects.filter(team=team)).order_by("-created_at")[:limit]


def members_of(team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("user__username")


@dataclass(frozen=True)
class HistoryFilters:
    status: str = ""
    member: int | None = None  # the user who started the job
    engine: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    q: str = ""  # part of an input's or a result's file name


@dataclass(frozen=True)
class HistoryPage:
    jobs: list[Job]
    older: str = ""  # cursors of the neighbouring pages, "" when there is none
    newer: str = ""


HISTORY_PAGE_SIZE = 25


def _cursor(job: Job) -> str:
    return f"{int(job.created_at.timestamp() * 1_000_000)}.{job.pk.hex}"


def _cursor_position(cursor: str) -> tuple[datetime, uuid.UUID] | None:
    try:
        micros, _, pk = cursor.partition(".")
        return datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC), uuid.UUID(hex=pk)
    except ValueError:
        return None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _history_filtered(team: Team, filters: HistoryFilters) -> QuerySet[Job]:
    jobs = Job.objects.filter(team=team)
    if filters.status:
        jobs = jobs.filter(status=filters.status)
    if filters.member:
        jobs = jobs.filter(created_by_id=filters.member)
    if filters.engine:
        jobs = jobs.filter(engine=filters.engine)
    if filters.date_from:
        jobs = jobs.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        jobs = jobs.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.q:
        jobs = jobs.filter(
            Exists(JobInput.objects.filter(job=OuterRef("pk"), filename__icontains=filters.q))
            | Exists(JobOutput.objects.filter(job=OuterRef("pk"), download_name__icontains=filters.q)))
    return jobs


def job_history_for(team: Team, filters: HistoryFilters, *, before: str = "", after: str = "",
                    size: int = HISTORY_PAGE_SIZE) -> HistoryPage:
    """One page of the team's jobs, newest first, after keyset pagination: a page costs the
    same at the millionth job as at the first (no OFFSET, no COUNT), from the (team, filter,
    -created_at) indexes. `before`/`after` are cursors from a previous page."""
    jobs = _history_filtered(team, filters)
    if position := _cursor_position(after):
        at, pk = position
        page = list(_with_files(jobs.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk)))
                    .order_by("created_at", "pk")[:size + 1])
        more_newer = len(page) > size
        page = page[:size][::-1]
        return HistoryPage(page, older=_cursor(page[-1]) if page else "",
                           newer=_cursor(page[0]) if more_newer else "")
    if position := _cursor_position(before):
        at, pk = position
        jobs = jobs.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
    page = list(_with_files(jobs).order_by("-created_at", "-pk")[:size + 1])
    more_older = len(page) > size
    page = page[:size]
    return HistoryPage(page, older=_cursor(page[-1]) if more_older else "",
                       newer=_cursor(page[0]) if position and page else "")


def jobs_selected(team: Team, job_ids) -> QuerySet[Job]:
    return _with_files(Job.objects.filter(team=team, pk__in=job_ids)).order_by("-created_at")


def output_for(team: Team, output_id) -> JobOutput:
    return get_object_or_404(JobOutput.objects.select_related("job"), pk=output_id, job__team=team)


def presets_for(team: Team) -> list[tuple[str, dict, bool]]:
    """(name, options, builtin) for the built-in presets, then the team's own."""
    builtin = [(name, dict(values), True) for name, values in options.BUILTIN_PRESETS.items()]
    own = [(preset.name, preset.options, False) for preset in Preset.objects.filter(team=team)]
    return builtin + own


def team_presets(team: Team) -> QuerySet[Preset]:
    return Preset.objects.filter(team=team).order_by("name")


def preset_of_team(team: Team, preset_id) -> Preset:
    return get_object_or_404(Preset, pk=preset_id, team=team)


def jobs_counted_for(team: Team, api_key_id: int | None = None) -> QuerySet[Job]:
    """The jobs whose usage a report sums: the team's, or those made with one of its API keys."""
    jobs = Job.objects.filter(team=team)
    return jobs.filter(api_key_id=api_key_id) if api_key_id is not None else jobs


def engines_for(team: Team) -> list[tuple[str, str]]:
    """(value, label) of the engines a job of this team may run on, the team's default first.
    api2convert is offered only once the team has stored its key."""
    engines = [(value, label) for value, label in Team.Engine.choices
               if value != Team.Engine.API2CONVERT or Api2convertAccount.objects.filter(team=team).exists()]
    return sorted(engines, key=lambda engine: engine[0] != team.default_engine)


def membership_in(team: Team, membership_id) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, team=team)


def invite_in(team: Team, invite_id) -> Invite:
    return get_object_or_404(Invite, pk=invite_id, team=team)


def invite_addressed(user, invite_id) -> Invite:
    """An invitation to this user by name: someone else's does not exist for them."""
    return get_object_or_404(Invite.objects.select_related("team"), pk=invite_id, user=user)


def invites_open_for(team: Team) -> QuerySet[Invite]:
    return (Invite.objects.filter(team=team, used_at=None, expires_at__gt=timezone.now())
            .select_related("user", "created_by"))


def invites_addressed_to(user) -> QuerySet[Invite]:
    return (Invite.objects.filter(user=user, used_at=None, expires_at__gt=timezone.now())
            .select_related("team", "created_by"))
