"""The authorisation matrix: every URL of the project × anonymous, outsider, viewer, member,
admin, owner, by GET and POST. Path parameters are filled with ids of team A's objects."""

import pytest
from django.core.files.base import ContentFile

from converter.api.serializers import conversion_id
from converter.models import Invite, Job, JobInput, JobOutput, Membership, Preset
from converter.services.api_keys import key_issue
from converter.services.invites import invite_link_create, invite_user_create
from converter.services.teams import team_create_personal
from tests.security.routes import project_routes

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "viewer", "member", "admin", "owner"]
# Parameters this test knows how to fill; a route with any other fails test_every_route_is_covered.
FILLABLE = {"job_id", "input_id", "output_id", "key_id", "membership_id", "invite_id", "token", "path",
            "secret", "conversion_id", "preset_id", "day", "month", "year", "filter"}
TEAM_OBJECTS = {"job_id", "input_id", "output_id", "key_id", "membership_id", "invite_id", "preset_id"}
# Routes anyone may reach by design, each with why.
PUBLIC = {
    "healthz": "load-balancer probe, no data",
    "readyz": "load-balancer probe, no data",
    "signup": "the sign-up form", "login": "the sign-in form", "logout": "signing out",
    "api:root": "API index", "api:openapi": "the API description", "api:statuses": "status list",
    "api:conversions": "what can be converted",
    "api:output-download": "the output id is the capability, as in api2convert; passwords still apply",
    "api:upload-file": "authorised by the job's token, not a session",
    "api2convert_callback": "authorised by the secret in its path (a wrong one here)",
    "invite_join": "authorised by the invite token in its path",
    "api:": "the JSON 404 for unknown API paths",
}
# What a viewer may not do (each must refuse a viewer's POST).
WRITES = {"convert", "preset_save", "job_cancel", "job_delete", "job_rerun", "job_edit"}
ROUTES = project_routes()


def _name(route) -> str:
    return f"api:{route.name}" if route.route.startswith("v2/") else route.name


@pytest.fixture
def world(django_user_model, alice, team, bob):
    """Team A with a member of every role and one of each kind of object, and charlie outside."""
    users = {"owner": alice, "member": bob}
    for role in ("viewer", "admin"):
        users[role] = django_user_model.objects.create_user(role, password="x-password-123")
        Membership.objects.create(team=team, user=users[role], role=role)
    users["outsider"] = charlie = django_user_model.objects.create_user("charlie", password="x-password-123")
    team_create_personal(charlie)
    job = Job.objects.create(team=team, created_by=alice, status=Job.Status.COMPLETED, progress=100)
    job_input = JobInput.objects.create(job=job, type=JobInput.Type.UPLOAD, filename="a.wav")
    output = JobOutput(job=job, download_name="a.flac")
    output.file.save("a.flac", ContentFile(b"fLaC" + bytes(64)), save=True)
    preset = Preset.objects.create(team=team, name="Mine", options={"channels": "mono"})
    owner = Membership.objects.get(team=team, user=alice)
    _, token = invite_link_create(actor=owner, role="member")
    django_user_model.objects.create_user("zed", password="x-password-123")
    invite = invite_user_create(actor=owner, username="zed", role="member")
    values = {"job_id": job.pk, "input_id": job_input.pk, "output_id": output.pk,
              "key_id": key_issue(team=team, user=alice, name="A").api_key.pk,
              "membership_id": Membership.objects.get(team=team, user=bob).pk,
              "invite_id": invite.pk, "token": token, "path": "no/such/thing", "secret": "wrong",
              "conversion_id": conversion_id(job), "preset_id": preset.pk, "day": "2024-02-29",
              "month": "2024-02", "year": "2024", "filter": "all"}
    charlie_key = key_issue(team=charlie.teams.get(), user=charlie, name="C").key
    return users, values, job, charlie_key


def test_every_route_is_covered():
    unfillable = {str(route) for route in ROUTES if set(route.params) - FILLABLE}
    assert not unfillable, f"new path parameters: add them to FILLABLE and the world fixture: {unfillable}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_matrix(client, world, route, role):
    users, values, job, charlie_key = world
    if role != "anonymous":
        client.force_login(users[role])
    # The API knows no sessions: the outsider comes with a key of their own team.
    api_outsider = role == "outsider" and _name(route).startswith("api:")
    headers = {"X-Api2convert-Api-Key": charlie_key} if api_outsider else {}
    path, team_object = route.path(values), bool(set(route.params) & TEAM_OBJECTS)
    for method in ("get", "post"):
        response = getattr(client, method)(path, headers=headers)
        status = response.status_code
        assert status < 500, f"{method.upper()} {path} as {role}: {status}"
        if _name(route) in PUBLIC:
            continue
        if role == "anonymous":
            location = response.get("Location", "")
            assert status in (401, 403, 404, 405) or (status == 302 and location.startswith("/login/")), \
                f"{method.upper()} {path} anonymous: {status} {location}"
        elif role == "outsider" and team_object:
            assert status in (404, 405), f"{method.upper()} {path} as outsider: {status}"
        elif role == "viewer" and method == "post" and route.name in WRITES:
            assert status in (403, 404, 405), f"POST {path} as viewer: {status}"
    if role in ("anonymous", "outsider", "viewer"):
        assert Job.objects.filter(pk=job.pk, status=Job.Status.COMPLETED).exists(), f"{path} changed the job"
    assert Invite.objects.exists() or route.name.startswith("invit"), f"{path} as {role} removed an invite"


def test_the_public_list_names_only_real_routes():
    assert set(PUBLIC) <= {_name(route) for route in ROUTES}
