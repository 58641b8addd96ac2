"""Reads. Every query that a page or the API makes is scoped to a team here."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from converter import options
from converter.models import Api2convertAccount, Job, JobInput, JobOutput, Membership, Preset, Team


def teams_for(user) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user).order_by("-personal", "name")


def membership_for(user, team: Team) -> Membership | None:
    if not user.is_authenticated or team is None:
        return None
    return Membership.objects.filter(user=user, team=team).first()


def job_for(team: Team, job_id) -> Job:
    """The team's job, or 404: a job of another team does not exist for this caller."""
    return get_object_or_404(Job.objects.select_related("created_by"), pk=job_id, team=team)


def jobs_for_team(team: Team, limit: int = 50) -> QuerySet[Job]:
    return (
        Job.objects.filter(team=team)
        .select_related("created_by")
        .prefetch_related(
            Prefetch("inputs", queryset=JobInput.objects.order_by("created_at")),
            Prefetch("outputs", queryset=JobOutput.objects.order_by("created_at")),
        )
        .order_by("-created_at")[:limit]
    )


def output_for(team: Team, output_id) -> JobOutput:
    return get_object_or_404(JobOutput.objects.select_related("job"), pk=output_id, job__team=team)


def presets_for(team: Team) -> list[tuple[str, dict, bool]]:
    """(name, options, builtin) for the built-in presets, then the team's own."""
    builtin = [(name, dict(values), True) for name, values in options.BUILTIN_PRESETS.items()]
    own = [(preset.name, preset.options, False) for preset in Preset.objects.filter(team=team)]
    return builtin + own


def engines_for(team: Team) -> list[tuple[str, str]]:
    """(value, label) of the engines a job of this team may run on, the team's default first.
    api2convert is offered only once the team has stored its key."""
    engines = [(value, label) for value, label in Team.Engine.choices
               if value != Team.Engine.API2CONVERT or Api2convertAccount.objects.filter(team=team).exists()]
    return sorted(engines, key=lambda engine: engine[0] != team.default_engine)
