"""Polling a job that has not changed is cheap: one query in the view and a 204 (htmx does
not swap on 204, so the element keeps polling); a changed job gets its whole fragment."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from converter.models import Job
from converter.services.jobs import job_set
from tests.web.conftest import make_job

HTMX = {"HTTP_HX_REQUEST": "true"}
POLLED = re.compile(r'hx-get="([^"]+\?v=[^"]+)" hx-trigger="(?:load delay:\d+ms, )?every (\d)s"')


def _polled_url(html: str) -> str:
    match = POLLED.search(html)
    assert match, html
    return match.group(1)


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        client.get(url, **HTMX)
    return len(captured)


@pytest.mark.parametrize("view", ["job_status", "history_row"])
def test_an_unchanged_job_answers_204_with_one_query_in_the_view(alice_client, running_job, view,
                                                                 django_assert_num_queries):
    first = alice_client.get(reverse(view, args=[running_job.pk]), **HTMX)
    url = _polled_url(first.content.decode())
    # The middleware (session, user, team, membership) costs the same for every request; an
    # unknown job id stops after the view's one query, so their difference is the view's cost.
    baseline = _queries_for(alice_client, reverse(view, args=[Job().pk]) + "?v=x")
    with django_assert_num_queries(baseline) as captured:
        response = alice_client.get(url, **HTMX)
    assert response.status_code == 204 and response.content == b""
    view_sql = [query["sql"] for query in captured.captured_queries if '"converter_job"' in query["sql"]]
    assert len(view_sql) == 1
    assert '"converter_job"."modified_at"' in view_sql[0] and '"converter_job"."status"' in view_sql[0]
    assert '"converter_job"."options"' not in view_sql[0]  # nothing loaded that the poll does not need


@pytest.mark.parametrize("view", ["job_status", "history_row"])
def test_a_changed_job_gets_its_whole_fragment(alice_client, running_job, view):
    url = _polled_url(alice_client.get(reverse(view, args=[running_job.pk]), **HTMX).content.decode())
    job_set(running_job, progress=75.0)
    response = alice_client.get(url, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="75"' in html or "75%" in html
    assert _polled_url(html) != url  # the next poll asks about the new version


def test_polling_stops_when_the_job_ends(alice_client, running_job):
    url = _polled_url(alice_client.get(reverse("job_status", args=[running_job.pk]), **HTMX).content.decode())
    job_set(running_job, status=Job.Status.COMPLETED, progress=100.0)
    html = alice_client.get(url, **HTMX).content.decode()
    assert "hx-trigger" not in html and "?v=" not in html


def test_a_request_without_a_version_always_gets_the_fragment(alice_client, completed_job):
    # The "unlocked" trigger of a finished job with a password reloads it without ?v=.
    response = alice_client.get(reverse("job_status", args=[completed_job.pk]), **HTMX)
    assert response.status_code == 200 and "<article" in response.content.decode()


def test_a_stale_version_of_another_teams_job_is_404(client, charlie, running_job):
    client.force_login(charlie)
    response = client.get(reverse("job_status", args=[running_job.pk]) + "?v=1.processing", **HTMX)
    assert response.status_code == 404


def test_a_new_job_polls_with_its_version(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.QUEUED, progress=0)
    html = alice_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    url = _polled_url(html)
    assert alice_client.get(url, **HTMX).status_code == 204


def test_the_active_team_and_membership_cost_one_query(rf, alice, team, django_assert_num_queries):
    """Every signed-in request (each poll among them) finds its team: the session's pick, else
    the user's first team, with the membership, in one query (it took three)."""
    from converter.services.teams import team_create
    from converter.web.teams import SESSION_KEY, ActiveTeamMiddleware

    other = team_create(name="Another", owner=alice)  # "Another" sorts first: the default without a pick
    middleware = ActiveTeamMiddleware(lambda request: request)
    for picked, expected in ((None, other), (team.pk, team), (other.pk, other), (10**9, other)):
        request = rf.get("/")
        request.user, request.session = alice, {} if picked is None else {SESSION_KEY: picked}
        with django_assert_num_queries(1):
            middleware(request)
        assert request.team == expected
        assert (request.membership.team_id, request.membership.user_id) == (expected.pk, alice.pk)
