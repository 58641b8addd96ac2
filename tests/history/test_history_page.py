"""The history page: filters, search, keyset pages; htmx partials and plain GETs alike."""

import html
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from converter.models import Job
from tests.web.conftest import add_output, make_job

HTMX = {"HTTP_HX_REQUEST": "true"}


def _rows(response) -> list[str]:
    return re.findall(r'class="job-link">([^<]+)</a>', response.content.decode())


def _link(response, rel: str) -> str:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return html.unescape(found.group(1)) if found else ""


def test_full_page_and_partial(alice_client, many_jobs):
    page = alice_client.get(reverse("history"))
    html = page.content.decode()
    assert "<html" in html and 'id="history"' in html
    assert page["Vary"] and "HX-Request" in page["Vary"]
    assert _rows(page)[0] == "take-0299.wav"  # newest first
    assert len(_rows(page)) == 25
    partial = alice_client.get(reverse("history"), {"status": "failed"}, **HTMX)
    body = partial.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="history"')
    assert 'hx-push-url="true"' in body


def test_history_restore_gets_the_whole_page(alice_client, many_jobs):
    response = alice_client.get(reverse("history"), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in response.content.decode()


def test_filters(alice_client, many_jobs, bob):
    def titles(**query):
        return _rows(alice_client.get(reverse("history"), query))

    assert all(job.status == "failed" for job in Job.objects.filter(
        inputs__filename__in=titles(status="failed")))
    assert set(Job.objects.filter(inputs__filename__in=titles(member=bob.pk))
               .values_list("created_by", flat=True)) == {bob.pk}
    assert set(Job.objects.filter(inputs__filename__in=titles(engine="api2convert"))
               .values_list("engine", flat=True)) == {"api2convert"}
    assert titles(q="TAKE-0123") == ["take-0123.wav"]
    assert titles(q="nothing-like-it") == []


def test_the_search_finds_a_result_by_its_name_too(alice_client, team, alice):
    """A result renamed with "Output file name" is found by that name."""
    job = make_job(team, alice, status=Job.Status.COMPLETED)
    job.inputs.create(type="upload", filename="take-7.wav")
    add_output(job, name="Episode 12 master.flac")
    make_job(team, alice).inputs.create(type="upload", filename="other.wav")
    response = alice_client.get(reverse("history"), {"q": "episode 12"})
    assert _rows(response) == ["song.wav, take-7.wav"]  # make_job's input and this one


def test_date_range(alice_client, team, alice):
    old, new = make_job(team, alice), make_job(team, alice)
    Job.objects.filter(pk=old.pk).update(created_at="2024-01-10T12:00:00Z")
    Job.objects.filter(pk=new.pk).update(created_at="2024-03-10T12:00:00Z")
    response = alice_client.get(reverse("history"), {"date_from": "2024-01-01", "date_to": "2024-01-10"})
    assert [card.job.pk for card, _ in response.context["rows"]] == [old.pk]
    response = alice_client.get(reverse("history"), {"date_from": "2024-03-10"})
    assert [card.job.pk for card, _ in response.context["rows"]] == [new.pk]
    bad = alice_client.get(reverse("history"), {"date_from": "2024-03-10", "date_to": "2024-01-01"})
    assert "The end date is before the start date." in bad.content.decode()


def test_keyset_pages_walk_the_whole_history(alice_client, many_jobs):
    seen, url = [], reverse("history") + "?status=completed"
    while url:
        response = alice_client.get(url, **HTMX)
        seen += _rows(response)
        url = _link(response, "next")
    assert len(seen) == len(set(seen)) == 100
    assert seen == sorted(seen, reverse=True)
    # And back: the newer link of the last page gives the page before it.
    last = alice_client.get(reverse("history"), {"status": "completed", "before": "0.x"})
    assert _rows(last)[0] == seen[0]  # a broken cursor is ignored
    second = alice_client.get(reverse("history") + "?status=completed")
    second = alice_client.get(_link(second, "next"))
    newer = alice_client.get(_link(second, "prev"), **HTMX)
    assert _rows(newer) == seen[:25]
    assert "status=completed" in _link(second, "prev")
    assert not _link(newer, "prev")


def test_plain_get_form_works_without_javascript(alice_client, many_jobs):
    page = alice_client.get(reverse("history")).content.decode()
    assert f'<form class="card history-filters" method="get" action="{reverse("history")}"' in page
    assert 'rel="next" href="/history/?before=' in page
    assert 'name="q"' in page and 'name="status"' in page and 'name="member"' in page


def test_running_rows_poll_and_finished_rows_do_not(alice_client, team, alice):
    running = make_job(team, alice)
    done = make_job(team, alice, status=Job.Status.COMPLETED, progress=100)
    page = alice_client.get(reverse("history")).content.decode()
    assert f'hx-get="{reverse("history_row", args=[running.pk])}?v=' in page
    assert 'hx-trigger="every 2s"' in page
    assert """hx-request='{"timeout": 10000}'""" in page  # a lost poll ends (tests/e2e: the card)
    assert reverse("history_row", args=[done.pk]) not in page
    Job.objects.filter(pk=running.pk).update(status=Job.Status.COMPLETED, progress=100)
    row = alice_client.get(reverse("history_row", args=[running.pk]), **HTMX).content.decode()
    assert row.lstrip().startswith("<tr") and "hx-trigger" not in row and "Completed" in row


def test_row_shows_outputs_and_expiry(alice_client, completed_job):
    output = completed_job.outputs.get()
    if hasattr(completed_job, "expires_at"):  # retention adds it
        Job.objects.filter(pk=completed_job.pk).update(expires_at=timezone.now() + timedelta(days=3))
    page = alice_client.get(reverse("history")).content.decode()
    assert reverse("output_download", args=[output.pk]) in page
    assert reverse("output_play", args=[output.pk]) in page
    assert "2:05" in page and "alice" in page
    if hasattr(completed_job, "expires_at"):
        assert re.search(r"expires in [23]\xa0days", page)


def test_typing_on_in_the_search_replaces_the_address_and_a_new_search_pushes_it(alice_client):
    def searched(shown: str, query: dict):
        current = {"HTTP_HX_CURRENT_URL": f"http://testserver{reverse('history')}{shown}"}
        return alice_client.get(reverse("history"), query, **HTMX, **current)

    assert "HX-Replace-Url" not in searched("", {"q": "s"})  # the search starts: a step (hx-push-url)
    typed_on = searched("?q=s&status=", {"q": "so", "status": ""})
    assert typed_on["HX-Replace-Url"] == f"{reverse('history')}?q=so&status="
    assert "HX-Replace-Url" not in searched("?q=so", {"q": "so", "status": "failed"})  # another filter
    assert "HX-Replace-Url" not in searched("?q=so", {"q": ""})  # the search cleared
