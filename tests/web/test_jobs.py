"""Job fragments, the job page, cancelling and history."""

import re

import pytest
from django.urls import reverse

from converter.models import Job, JobOutput
from tests.web.conftest import add_output, make_job

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_running_job_fragment_polls(alice_client, running_job):
    html = alice_client.get(reverse("job_status", args=[running_job.pk]), **HTMX).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="{reverse("job_status", args=[running_job.pk])}?v=' in html
    assert '<progress id="job-' in html and 'value="40"' in html
    assert f'<label for="job-{running_job.pk}-progress">' in html
    assert "Cancel</button>" in html
    assert "<audio" not in html


def test_a_queued_job_is_asked_again_soon_after_it_appears(alice_client, team, alice):
    """A short job is often done within a second of its submission: its card asks once 0.3 s
    after it appears, then every second; a running one (whose card is redrawn as it progresses)
    every second only."""
    queued = make_job(team, alice, status=Job.Status.QUEUED, progress=0)
    html = alice_client.get(reverse("job_status", args=[queued.pk]), **HTMX).content.decode()
    assert 'hx-trigger="load delay:300ms, every 1s"' in html


def test_completed_job_fragment_stops_polling_and_offers_the_result(alice_client, completed_job):
    html = alice_client.get(reverse("job_status", args=[completed_job.pk]), **HTMX).content.decode()
    output = completed_job.outputs.get()
    assert "hx-trigger" not in _card_tag(html)
    assert "<progress" not in html
    assert f'<audio controls preload="none" src="{reverse("output_play", args=[output.pk])}"' in html
    assert f'href="{reverse("output_download", args=[output.pk])}"' in html
    for fact in ("song.flac", "2:05", "44.1 kHz", "16-bit", "Stereo"):
        assert fact in html
    # The report, compactly.
    assert "Compression ratio" in html and "0.58" in html
    assert "<dt>Loudness before</dt><dd>-31.24 LUFS</dd>" in html
    assert "<dt>Samples</dt><dd>5,530,140</dd>" in html


def _card_tag(html: str) -> str:
    """The job card's own element, which polls or waits (its outputs' waveforms load on their own)."""
    return re.search(r"<article[^>]*>", html).group(0)


def test_options_read_as_a_person_reads_them(alice_client, team, alice):
    job = make_job(team, alice, options={"frequency": 48000, "channels": "mono", "normalize": True,
                                         "normalize_type": "ebu"})
    html = alice_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    for shown in ("<dt>Sample rate</dt><dd>48 kHz</dd>", "<dt>Channels</dt><dd>Mono</dd>",
                  "<dd>EBU R128</dd>", "<dt>Normalize loudness</dt><dd>yes</dd>"):
        assert shown in html


def test_levels_keep_a_decimal_beside_each_other(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0)
    add_output(job, report={"integrated_lufs_before": -25.7, "integrated_lufs_after": -23.0,
                            "compression_ratio": 0.5})
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "<dt>Loudness before</dt><dd>-25.7 LUFS</dd>" in html
    assert "<dt>Loudness after</dt><dd>-23.0 LUFS</dd>" in html
    assert "<dt>Compression ratio</dt><dd>0.5</dd>" in html


def test_a_reports_list_reads_as_text(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0)
    add_output(job, report={"warnings": ["Peaks were limited", "Reached -23.0 LUFS after 3 passes"]})
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "<dt>Warnings</dt><dd>Peaks were limited; Reached -23.0 LUFS after 3 passes</dd>" in html


@pytest.mark.parametrize(("outputs", "shown"), [
    ([], True),  # not converted yet: the inputs may be text
    ([{"duration": 2.0}], False),  # audio from audio: the language did nothing
    ([{"duration": 2.0}, {"duration": 1.0, "speech_language": "fr-FR"}], True),
    ([{"members": [{"filename": "a.flac"}, {"filename": "b.flac", "speech_language": "fr-FR"}]}], True),
], ids=["pending", "audio", "spoken", "spoken-in-zip"])
def test_the_speech_language_shows_where_it_can_have_applied(alice_client, team, alice, outputs, shown):
    job = make_job(team, alice, status=Job.Status.COMPLETED if outputs else Job.Status.QUEUED,
                   options={"language_tts": "fr-FR"})
    for number, report in enumerate(outputs):
        add_output(job, name=f"{number}.flac", report=report)
    html = alice_client.get(reverse("job_detail", args=[job.pk])).content.decode()
    options = html.split("<h2>Options</h2>")[1].split("<h2")[0]
    assert ("<dt>Speech language</dt><dd>French (France)</dd>" in options) is shown


def test_a_zips_report_names_its_files(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0)
    members = [{"filename": "a.flac", "duration": 3.2, "md5": "ab" * 16},
               {"filename": "b.flac", "duration": 65.0}, {"filename": "c.flac", "duration": None}]
    add_output(job, name="outputs.zip", report={"size": 1234, "members": members})
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "<dt>Files in the ZIP</dt><dd>a.flac (0:03); b.flac (1:05); c.flac</dd>" in html


def test_failed_inputs_show_their_message(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.FAILED, progress=0)
    job_input = job.inputs.get()
    job.errors = [{"source": "input", "id_source": str(job_input.pk), "code": "NO_AUDIO",
                   "message": "This file has no audio stream."}]
    job.save()
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "<strong>song.wav</strong>: This file has no audio stream." in html
    assert "hx-trigger" not in html


def test_protected_output_shows_a_password_form_instead_of_a_player(alice_client, protected_output):
    job = protected_output.job
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "<audio" not in html
    assert f'action="{reverse("output_download", args=[protected_output.pk])}"' in html
    # Over htmx the password goes to output_unlock, which answers with the card.
    assert f'hx-post="{reverse("output_unlock", args=[protected_output.pk])}"' in html
    assert "hx-trigger" not in _card_tag(html)  # a finished card is not polled
    alice_client.post(reverse("output_download", args=[protected_output.pk]), {"password": "blue"})
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "<audio" in html
    assert "hx-trigger" not in _card_tag(html)


def test_job_page_works_without_javascript(alice_client, running_job):
    html = alice_client.get(reverse("job_detail", args=[running_job.pk])).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert f'<form method="post" action="{reverse("job_cancel", args=[running_job.pk])}"' in html
    assert "song.wav" in html


def test_a_job_address_typed_in_upper_case_opens_the_job(alice_client, running_job):
    response = alice_client.get(f"/jobs/{str(running_job.pk).upper()}/")
    assert response.status_code == 200 and "song.wav" in response.content.decode()


def test_cancel(alice_client, running_job):
    response = alice_client.post(reverse("job_cancel", args=[running_job.pk]))
    assert response.status_code == 302
    assert response.url == reverse("job_detail", args=[running_job.pk])
    running_job.refresh_from_db()
    assert running_job.cancel_requested
    html = alice_client.post(reverse("job_cancel", args=[running_job.pk]), **HTMX).content.decode()
    assert "Stopping" in html


def test_cancel_a_queued_job_ends_it(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.QUEUED, progress=0)
    html = alice_client.post(reverse("job_cancel", args=[job.pk]), **HTMX).content.decode()
    assert "Canceled" in html
    assert "hx-trigger" not in html


def test_convert_page_and_history_list_the_teams_jobs(client, bob, running_job, completed_job):
    client.force_login(bob)
    for url in (reverse("convert"), reverse("history")):
        html = client.get(url).content.decode()
        assert reverse("job_detail", args=[running_job.pk]) in html
        assert reverse("job_detail", args=[completed_job.pk]) in html


def test_history_of_another_team_is_not_shown(client, charlie, running_job):
    client.force_login(charlie)
    assert str(running_job.pk) not in client.get(reverse("history")).content.decode()


def test_many_inputs_are_summarised_in_the_title(alice_client, team, alice):
    job = make_job(team, alice)
    for name in ("b.wav", "c.wav", "d.wav"):
        job.inputs.create(type="upload", filename=name)
    add_output(job)
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert "song.wav, b.wav and 2 more" in html


def test_the_report_gives_the_files_checksum(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0)
    ours, vendors = add_output(job, report={"duration": 1.0}), add_output(job, name="b.flac")
    JobOutput.objects.filter(pk=ours.pk).update(checksum="ab" * 32)
    JobOutput.objects.filter(pk=vendors.pk).update(checksum="cd" * 20)
    html = alice_client.get(reverse("job_status", args=[job.pk]), **HTMX).content.decode()
    assert f"<dt>SHA-256 of the file</dt><dd>{'ab' * 32}</dd>" in html
    assert f"<dt>SHA-1 of the file</dt><dd>{'cd' * 20}</dd>" in html
