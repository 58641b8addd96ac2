"""The admin: staff see teams, members, keys, jobs, callbacks and usage; nobody else does."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from converter.models import CallbackDelivery, Job
from tests.web.conftest import add_output, make_job

pytestmark = pytest.mark.django_db

USAGE = reverse("admin:converter_job_usage")
MODELS = ("team", "membership", "apikey", "job", "callbackdelivery")


@pytest.fixture
def jobs(team, alice, bob, issued):
    done = make_job(team, alice, status=Job.Status.COMPLETED, input_bytes=1000, output_bytes=600,
                    audio_seconds=90, processing_seconds=2.5, spent=2, api_key=issued.api_key)
    add_output(done)
    CallbackDelivery.objects.create(job=done, status=Job.Status.COMPLETED, body="{}", attempts=10,
                                    due_at=timezone.now(), state=CallbackDelivery.State.FAILED,
                                    last_error="answered 500")
    make_job(team, bob, status=Job.Status.FAILED, error_code="INVALID_FILE", input_bytes=500)
    return done


def _pages(team, job, issued):
    return [reverse("admin:index"), USAGE,
            *(reverse(f"admin:converter_{model}_changelist") for model in MODELS),
            reverse("admin:converter_team_change", args=[team.pk]),
            reverse("admin:converter_apikey_change", args=[issued.api_key.pk]),
            reverse("admin:converter_job_change", args=[job.pk]),
            reverse("admin:converter_callbackdelivery_change", args=[job.callback_deliveries.get().pk])]


def test_staff_see_every_page(staff_client, team, jobs, issued):
    for url in _pages(team, jobs, issued):
        assert staff_client.get(url).status_code == 200, url


def test_others_are_sent_to_the_login_or_refused(client, alice, django_user_model, team, jobs, issued):
    for url in _pages(team, jobs, issued):
        assert client.get(url).status_code == 302, url  # anonymous
    client.force_login(alice)  # a user, not staff
    for url in _pages(team, jobs, issued):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff)  # staff without the permission to view jobs
    assert client.get(USAGE).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_job"))
    assert client.get(USAGE).status_code == 200


def test_job_list_filters_and_searches(staff_client, jobs):
    url = reverse("admin:converter_job_changelist")
    assert str(jobs.pk) in staff_client.get(url, {"status__exact": "completed"}).content.decode()
    assert str(jobs.pk) not in staff_client.get(url, {"status__exact": "failed"}).content.decode()
    assert str(jobs.pk) in staff_client.get(url, {"q": "song.flac"}).content.decode()
    assert str(jobs.pk) in staff_client.get(url, {"q": str(jobs.pk)[:8]}).content.decode()


def test_a_jobs_callbacks_and_their_last_errors_are_listed(staff_client, jobs):
    for url in (reverse("admin:converter_job_change", args=[jobs.pk]),
                reverse("admin:converter_callbackdelivery_changelist") + "?state__exact=failed"):
        assert "answered 500" in staff_client.get(url).content.decode(), url
    delivered = staff_client.get(reverse("admin:converter_callbackdelivery_changelist"),
                                 {"state__exact": "delivered"})
    assert "answered 500" not in delivered.content.decode()


def test_cancel_and_revoke_actions(staff_client, team, alice, issued):
    running = make_job(team, alice, status=Job.Status.QUEUED)
    staff_client.post(reverse("admin:converter_job_changelist"),
                      {"action": "cancel", "_selected_action": [running.pk]})
    assert Job.objects.get(pk=running.pk).status == Job.Status.CANCELED
    staff_client.post(reverse("admin:converter_apikey_changelist"),
                      {"action": "revoke", "_selected_action": [issued.api_key.pk]})
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None


def test_usage_page_totals_tables_and_chart(staff_client, jobs, team):
    today = timezone.localdate()
    response = staff_client.get(USAGE, {"first": today - timedelta(days=6), "last": today, "team": team.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<dd>2 <span class=\"muted\">(1 failed)</span></dd>" in html
    assert "<dd>1 min 30 s</dd>" in html and "<dd>1.5\xa0KB</dd>" in html
    # Audio has one format on the page: the totals' and the tables' (no "Audio (min)" rounded to 2).
    assert "<td>1 min 30 s</td>" in html and "Audio (min)" not in html
    assert html.count('class="usage-bar"') == 14  # 7 days, two charts
    assert "<th scope=\"row\">Team A</th><td>2</td><td>1</td>" in html
    assert "<th scope=\"row\">alice</th><td>1</td><td>0</td>" in html
    assert "<script" not in html.split('<div id="content-main">')[1]


def test_usage_period_must_be_in_order(staff_client):
    today = timezone.localdate()
    html = staff_client.get(USAGE, {"first": today, "last": today - timedelta(days=1)}).content.decode()
    assert "The first day must come before the last" in html


def test_usage_csv_export(staff_client, jobs):
    today = timezone.localdate()
    response = staff_client.get(USAGE, {"first": today, "last": today, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    seen = {(row["user"], row["jobs"], row["failed"], row["audio_seconds"], row["spent"]) for row in rows}
    assert seen == {("alice", "1", "0", "90.0", "2"), ("bob", "1", "1", "0", "0")}
    assert all(row["team"] == "Team A" and row["day"] == today.isoformat() for row in rows)
