"""Polling a job that has not changed is cheap: a 204 after one query for the whole request
(web/polls.py answers before the session, the user and the team are loaded; htmx does not swap
on 204, so the element keeps polling); a changed job gets its whole fragment."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from converter.models import Job, Membership
from converter.services.jobs import job_set
from tests.web.conftest import make_job

HTMX = {"HTTP_HX_REQUEST": "true"}
POLLED = re.compile(r'hx-get="([^"]+\?v=[^"]+)" hx-trigger="(?:load delay:\d+ms, )?every (\d)s"')
VIEWS = pytest.mark.parametrize("view", ["job_status", "history_row"])


def _polled_url(page: str) -> str:
    match = POLLED.search(page)
    assert match, page
    return html.unescape(match.group(1))


def _first_poll(client, view: str, job) -> str:
    return _polled_url(client.get(reverse(view, args=[job.pk]), **HTMX).content.decode())


@VIEWS
def test_an_unchanged_job_answers_204_after_one_query_for_the_whole_request(alice_client, running_job, view,
                                                                            django_assert_num_queries):
    url = _first_poll(alice_client, view, running_job)
    with django_assert_num_queries(1) as captured:
        response = alice_client.get(url, **HTMX)
    assert response.status_code == 204 and response.content == b""
    assert "Cookie" in response["Vary"]
    sql = captured.captured_queries[0]["sql"]
    assert '"converter_job"."modified_at"' in sql and '"converter_job"."status"' in sql
    assert '"converter_job"."team_id"' in sql  # the job of the team the token was signed for
    assert '"converter_job"."options"' not in sql  # nothing loaded that the poll does not need


@pytest.mark.parametrize("view", ["job_status", "history_row"])
def test_a_changed_job_gets_its_whole_fragment(alice_client, running_job, view):
    url = _first_poll(alice_client, view, running_job)
    job_set(running_job, progress=75.0)
    response = alice_client.get(url, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="75"' in html or "75%" in html
    assert _polled_url(html) != url  # the next poll asks about the new version


def test_polling_stops_when_the_job_ends(alice_client, running_job):
    url = _first_poll(alice_client, "job_status", running_job)
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


@VIEWS
def test_a_polled_url_in_another_session_is_checked_by_the_view(alice_client, charlie, running_job, view):
    """The token is bound to the session that was shown the fragment: the URL alone (from a log, a
    shared screen) says nothing to another browser."""
    url = _first_poll(alice_client, view, running_job)
    stranger = Client()
    stranger.force_login(charlie)
    assert stranger.get(url, **HTMX).status_code == 404
    assert Client().get(url, **HTMX).status_code == 302  # signed out: to the sign-in page


@VIEWS
def test_an_expired_token_gets_the_fragment_with_a_fresh_one(alice_client, running_job, view, settings):
    url = _first_poll(alice_client, view, running_job)
    settings.POLL_TOKEN_SECONDS = -1  # every token is older than that
    response = alice_client.get(url, **HTMX)
    assert response.status_code == 200
    settings.POLL_TOKEN_SECONDS = 60
    assert alice_client.get(_polled_url(response.content.decode()), **HTMX).status_code == 204


def test_a_poll_to_a_host_not_allowed_is_refused_as_any_request(alice_client, running_job):
    url = _first_poll(alice_client, "job_status", running_job)
    assert alice_client.get(url, HTTP_HOST="evil.example", **HTMX).status_code == 400


def test_a_token_answers_only_for_its_own_job(alice_client, team, alice, running_job):
    other = make_job(team, alice)
    url = _first_poll(alice_client, "job_status", running_job)
    other_version = _first_poll(alice_client, "job_status", other).split("?")[1].split("&")[0]
    forged = reverse("job_status", args=[other.pk]) + "?" + other_version + "&" + url.split("&")[1]
    response = alice_client.get(forged, **HTMX)
    assert response.status_code == 200 and "<article" in response.content.decode()  # the view's answer


def test_a_removed_member_learns_only_unchanged_until_the_token_expires(client, bob, team, running_job,
                                                                         settings):
    """The documented lag (POLL_TOKEN_SECONDS): a member removed from the team keeps a 204 for
    an unchanged job until the token expires, then the view's 404; nothing of the job's content."""
    client.force_login(bob)
    url = _first_poll(client, "job_status", running_job)
    Membership.objects.filter(team=team, user=bob).delete()
    assert client.get(url, **HTMX).status_code == 204
    settings.POLL_TOKEN_SECONDS = -1
    assert client.get(url, **HTMX).status_code == 404


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
