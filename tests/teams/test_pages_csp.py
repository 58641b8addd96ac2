"""The team and history pages keep to the strict CSP too."""

from django.urls import reverse

from converter.models import Membership
from converter.services import invites
from tests.teams.conftest import membership
from tests.web.conftest import add_output, make_job
from tests.web.test_csp import _assert_no_inline_code


def test_team_and_history_pages_have_no_inline_code(client_of, alice, bob, team, charlie):
    _invite, token = invites.invite_link_create(actor=membership(team, alice), role=Membership.Role.MEMBER)
    job = make_job(team, alice, status="completed", progress=100)
    add_output(job)
    make_job(team, bob)
    client = client_of(alice)
    client.post(reverse("invite_create"), {"role": "viewer"})
    pages = [reverse("team_list"), reverse("team_members"), reverse("history"),
             reverse("history_row", args=[job.pk]), reverse("job_edit", args=[job.pk])]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_no_inline_code(response.content.decode())
    _assert_no_inline_code(client_of(charlie).get(reverse("invite_join", args=[token])).content.decode())
