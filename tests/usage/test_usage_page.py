"""The team's usage page: this team's numbers only, per day as a chart, per member as a table."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from converter.models import Job
from converter.services.usage import Period, audio_duration_text, usage_daily
from converter.web.usage_chart import HEIGHT, TOP, daily_chart
from tests.web.conftest import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(team, alice, bob, charlie):
    make_job(team, alice, status=Job.Status.COMPLETED, audio_seconds=120, output_bytes=2048, input_bytes=4096)
    make_job(team, bob, status=Job.Status.COMPLETED, audio_seconds=60)
    old = make_job(team, alice, status=Job.Status.COMPLETED, audio_seconds=600)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    make_job(charlie.teams.get(), charlie, status=Job.Status.COMPLETED, audio_seconds=999)


def test_usage_page_numbers_and_chart(alice_client, history):
    html = alice_client.get(reverse("team_usage")).content.decode()
    assert "<h2 id=\"period-title\">Last 30 days</h2>" in html
    assert "<dd>2</dd>" in html and "<dd>3 min</dd>" in html and "<dd>4.0\xa0KB</dd>" in html
    assert html.count('class="usage-bar"') == 60  # 30 days, two charts
    assert "<th scope=\"row\">alice</th><td>1</td>" in html and "<th scope=\"row\">bob</th><td>1</td>" in html
    assert "charlie" not in html
    html = alice_client.get(reverse("team_usage"), {"days": "90"}).content.decode()
    assert "<dd>3</dd>" in html and "<dd>13 min</dd>" in html


def test_usage_page_is_for_signed_in_members(client):
    assert client.get(reverse("team_usage")).status_code == 302


def test_daily_rows_fill_empty_days_and_the_chart_scales_to_the_top(team, history):
    today = timezone.localdate()
    rows = usage_daily(team.jobs.all(), Period.last_days(3, today))
    assert [row["day"] for row in rows] == [today - timedelta(days=2), today - timedelta(days=1), today]
    assert [row["jobs"] for row in rows] == [0, 0, 2]
    chart = daily_chart(rows, "audio_seconds", "Audio", "minutes", scale=60)
    assert [tick.text for tick in chart.y_ticks] == ["0", "2.5", "5"]  # 3 minutes round up to 5
    assert chart.bars[0].height == 0 and chart.bars[2].y == pytest.approx(TOP + (HEIGHT - TOP - 28) * 2 / 5)
    assert chart.bars[2].title.endswith(": 3 minutes")


def test_audio_is_shown_alike_in_the_quota_the_totals_and_the_table(alice_client, team, alice):
    """37 s was "0.6 minutes" in the quota, "37 s" in the totals and "1" in the per-member table."""
    team.quota_audio_minutes_per_month = 60
    team.save()
    make_job(team, alice, status=Job.Status.COMPLETED, audio_seconds=37.2)
    html = alice_client.get(reverse("team_usage")).content.decode()
    assert "<span>37 s of 1 h</span>" in html  # the quota
    assert "<dd>37 s</dd>" in html  # the totals
    assert "<td>37 s</td>" in html and "Audio (min)" not in html  # the table


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "0 s"), (0.4, "0 s"), (37.2, "37 s"), (60, "1 min"), (150, "2 min 30 s"),
    (3600, "1 h"), (3725, "1 h 2 min 5 s"), (3_600_000, "1,000 h"),
])
def test_audio_duration_text(seconds, text):
    assert audio_duration_text(seconds) == text
