"""An outsider gets a 404 on every team, invite and job URL of another team."""

import uuid

import pytest
from django.urls import reverse

from converter.models import Invite, Membership
from converter.services import invites
from tests.teams.conftest import membership
from tests.web.conftest import add_output, make_job


@pytest.fixture
def team_objects(team, alice, bob):
    owner = membership(team, alice)
    invite, _token = invites.invite_link_create(actor=owner, role=Membership.Role.MEMBER)
    job = make_job(team, alice, status="completed", progress=100)
    add_output(job)
    return {"membership": membership(team, bob), "invite": invite, "job": job}


def test_outsider_gets_404_everywhere(client_of, charlie, team_objects):
    client = client_of(charlie)  # charlie's active team is his personal one
    job, member, invite = team_objects["job"], team_objects["membership"], team_objects["invite"]
    posts = [
        reverse("member_role", args=[member.pk]), reverse("member_remove", args=[member.pk]),
        reverse("member_transfer", args=[member.pk]), reverse("invite_revoke", args=[invite.pk]),
        reverse("invitation_accept", args=[invite.pk]), reverse("invitation_decline", args=[invite.pk]),
        reverse("job_rerun", args=[job.pk]), reverse("job_delete", args=[job.pk]),
        reverse("job_cancel", args=[job.pk]),
    ]
    for url in posts:
        assert client.post(url, {"role": "owner"}).status_code == 404, url
    gets = [reverse("history_row", args=[job.pk]), reverse("job_edit", args=[job.pk]),
            reverse("job_detail", args=[job.pk]), reverse("job_status", args=[job.pk]),
            reverse("output_download", args=[job.outputs.get().pk])]
    for url in gets:
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("invite_join", args=[uuid.uuid4().hex])).status_code == 404
    # A job of another team in a ZIP selection is simply not there.
    response = client.get(reverse("history_zip"), {"job": job.pk})
    assert response.status_code == 302
    assert Invite.objects.filter(pk=invite.pk).exists()
    assert membership(job.team, member.user).role == "member"
    assert type(job).objects.filter(pk=job.pk).exists()


def test_anonymous_is_sent_to_login(client, team_objects):
    response = client.get(reverse("team_members"))
    assert response.status_code == 302 and reverse("login") in response.url
