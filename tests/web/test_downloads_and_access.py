"""Downloads honour the password; every job URL is scoped to the team."""

import json

import pytest
from django.urls import reverse

from converter.services.api_keys import key_issue
from converter.services.password_throttle import MAX_FAILURES_PER_CLIENT
from tests.web.conftest import FLAC_BYTES

JOB_URLS = ("job_detail", "job_status")


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_unprotected_download_streams_the_file(alice_client, completed_job):
    output = completed_job.outputs.get()
    response = alice_client.get(reverse("output_download", args=[output.pk]))
    assert response.status_code == 200
    assert _body(response) == FLAC_BYTES
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Length"] == str(len(FLAC_BYTES))


def test_range_request_returns_206(alice_client, completed_job):
    output = completed_job.outputs.get()
    response = alice_client.get(reverse("output_play", args=[output.pk]), HTTP_RANGE="bytes=4-11")
    assert response.status_code == 206
    assert _body(response) == FLAC_BYTES[4:12]
    assert response["Content-Range"] == f"bytes 4-11/{len(FLAC_BYTES)}"
    assert response["Content-Disposition"].startswith("inline")


@pytest.mark.parametrize("view", ["output_download", "output_play"])
def test_protected_output_without_password_gives_a_form_and_no_bytes(alice_client, protected_output, view):
    response = alice_client.get(reverse(view, args=[protected_output.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert FLAC_BYTES[:8].decode("latin-1") not in html
    assert '<input type="password" id="password" name="password"' in html
    assert "Wrong password" not in html


@pytest.mark.parametrize("how", ["form", "api2convert header", "oc header", "cookie"])
def test_wrong_password_is_refused(alice_client, protected_output, how):
    url = reverse("output_download", args=[protected_output.pk])
    response = _download(alice_client, url, how, "green")
    assert response.status_code == 403
    assert "Wrong password" in response.content.decode()
    assert "fLaC" not in response.content.decode("latin-1")


@pytest.mark.parametrize("how", ["form", "api2convert header", "oc header", "cookie"])
@pytest.mark.parametrize("password", ["red", "blue", "green,blue"])
def test_right_password_downloads(alice_client, protected_output, how, password):
    url = reverse("output_download", args=[protected_output.pk])
    response = _download(alice_client, url, how, password)
    assert response.status_code == 200
    assert _body(response) == FLAC_BYTES


def _download(client, url, how, password):
    if how == "form":
        return client.post(url, {"password": password})
    if how == "api2convert header":
        return client.get(url, HTTP_X_API2CONVERT_DOWNLOAD_PASSWORD=password)
    if how == "oc header":
        return client.get(url, HTTP_X_OC_DOWNLOAD_PASSWORD=password)
    client.cookies["x-oc-download-password"] = password
    return client.get(url)


def test_the_form_unlocks_playback_for_the_session_only(client, alice, bob, protected_output):
    play = reverse("output_play", args=[protected_output.pk])
    client.force_login(alice)
    client.post(reverse("output_download", args=[protected_output.pk]), {"password": "red"})
    assert client.get(play).status_code == 200
    client.force_login(bob)  # a new session
    assert client.get(play).status_code == 403


def test_a_new_password_locks_a_session_that_had_unlocked_the_output(client, alice, team, protected_output):
    download, play, waveform = (reverse(name, args=[protected_output.pk])
                                for name in ("output_download", "output_play", "output_waveform"))
    client.force_login(alice)
    assert client.post(download, {"password": "red"}).status_code == 200
    assert client.get(play).status_code == 200
    key = key_issue(team=team, user=alice, name="Tests").key
    response = client.patch(f"/v2/jobs/{protected_output.job_id}/output/{protected_output.pk}",
                            data=json.dumps({"download_password": "brandnew"}),
                            content_type="application/json", headers={"X-Api2convert-Api-Key": key})
    assert response.status_code == 200, response.content
    for url in (download, play, waveform):
        assert client.get(url).status_code == 403
    assert client.post(download, {"password": "red"}).status_code == 403  # the old one no longer opens it
    assert client.post(download, {"password": "brandnew"}).status_code == 200
    assert client.get(play).status_code == 200


def test_the_password_never_goes_into_a_url(alice_client, protected_output):
    response = alice_client.post(reverse("output_download", args=[protected_output.pk]), {"password": "red"})
    assert "red" not in response.get("Location", "")


def test_owner_and_member_see_the_job(client, alice, bob, completed_job):
    output = completed_job.outputs.get()
    for user in (alice, bob):
        client.force_login(user)
        for name in JOB_URLS:
            assert client.get(reverse(name, args=[completed_job.pk])).status_code == 200
        assert client.get(reverse("output_download", args=[output.pk])).status_code == 200
        assert client.get(reverse("output_play", args=[output.pk])).status_code == 200


def test_an_outsider_gets_404_on_every_job_url(client, charlie, completed_job, running_job):
    output = completed_job.outputs.get()
    client.force_login(charlie)
    for job in (completed_job, running_job):
        for name in JOB_URLS:
            assert client.get(reverse(name, args=[job.pk])).status_code == 404
        assert client.post(reverse("job_cancel", args=[job.pk])).status_code == 404
    assert client.get(reverse("output_download", args=[output.pk])).status_code == 404
    assert client.post(reverse("output_download", args=[output.pk]), {"password": "x"}).status_code == 404
    assert client.get(reverse("output_play", args=[output.pk])).status_code == 404
    running_job.refresh_from_db()
    assert not running_job.cancel_requested


def test_anonymous_visitors_are_sent_to_log_in(client, completed_job):
    output = completed_job.outputs.get()
    for url in (reverse("job_detail", args=[completed_job.pk]), reverse("output_download", args=[output.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("asked", "status"), [
    ("bytes=5-2", 200),  # invalid (last before first): ignored, the whole file (RFC 9110)
    ("bytes=4-11\n", 206),  # a trailing newline is whitespace around the header, not part of it
    ("bytes=999999-", 416),  # past the end: unsatisfiable, and said so in words
])
def test_ranges_that_are_invalid_or_unsatisfiable(alice_client, completed_job, asked, status):
    output = completed_job.outputs.get()
    response = alice_client.get(reverse("output_play", args=[output.pk]), HTTP_RANGE=asked)
    assert response.status_code == status
    if status == 416:
        assert response["Content-Type"].startswith("text/plain")
        said = f"The range asked for is not in the file, which has {len(FLAC_BYTES):,} bytes."
        assert response.content.decode() == said
        assert response["Content-Range"] == f"bytes */{len(FLAC_BYTES)}"


def test_a_list_typed_with_spaces_unlocks_with_each_password(client, team, alice, protected_output):
    """"first, second" as people type a list: "second" opens it, as does " second "."""
    client.force_login(alice)
    download = reverse("output_download", args=[protected_output.pk])
    key = key_issue(team=team, user=alice, name="Tests").key
    response = client.patch(f"/v2/jobs/{protected_output.job_id}/output/{protected_output.pk}",
                            data=json.dumps({"download_password": "first, second "}),
                            content_type="application/json", headers={"X-Api2convert-Api-Key": key})
    assert response.status_code == 200, response.content
    assert client.post(download, {"password": "second"}).status_code == 200
    client.logout()
    client.force_login(alice)  # a new session: unlocked no more
    assert client.post(download, {"password": " second "}).status_code == 200


HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_password_given_on_the_card_unlocks_it_in_place(alice_client, protected_output):
    unlock = reverse("output_unlock", args=[protected_output.pk])
    refused = alice_client.post(unlock, {"password": "guess"}, **HTMX)
    assert refused.status_code == 422
    html = refused.content.decode()
    assert f'<p id="pw-{protected_output.pk}-error" class="error" role="alert">Wrong password.</p>' in html
    assert "<audio" not in html and f'id="job-{protected_output.job_id}"' in html  # the card, still locked

    opened = alice_client.post(unlock, {"password": "blue"}, **HTMX)
    assert opened.status_code == 200 and "<audio" in opened.content.decode()
    download = reverse("output_download", args=[protected_output.pk])
    assert json.loads(opened["HX-Trigger-After-Settle"]) == {"downloadOutput": {"url": download}}
    assert alice_client.get(download).status_code == 200  # this session may now have it


def test_the_card_says_when_guessing_is_throttled(alice_client, protected_output):
    unlock = reverse("output_unlock", args=[protected_output.pk])
    for _ in range(MAX_FAILURES_PER_CLIENT):
        alice_client.post(unlock, {"password": "guess"}, **HTMX)
    html = alice_client.post(unlock, {"password": "blue"}, **HTMX).content.decode()
    assert "Too many wrong download passwords. Try again in 15 minutes." in html


def test_unlocking_without_htmx_goes_to_the_job(alice_client, charlie, client, protected_output):
    unlock = reverse("output_unlock", args=[protected_output.pk])
    assert alice_client.post(unlock, {"password": "blue"})["Location"] == reverse(
        "job_detail", args=[protected_output.job_id])
    client.force_login(charlie)
    assert client.post(unlock, {"password": "blue"}, **HTMX).status_code == 404  # not charlie's team
