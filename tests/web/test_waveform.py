"""Each output's card draws its waveform: measured from the stored file on the first ask, then
kept; only for those who may play the output."""

import re
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from converter import tasks
from converter.models import Job, JobOutput
from converter.services import waveforms
from converter.web.waveform_shape import waveform_shape
from tests import media
from tests.web.conftest import add_output, make_job

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(scope="module")
def flac_bytes(tmp_path_factory) -> bytes:
    """One second of a 0.5 sine on the left, then one at full scale (stereo, 8 kHz)."""
    path = tmp_path_factory.mktemp("waveform") / "song.flac"
    left = r"if(lt(t\,1)\,0.5*sin(2*PI*400*t)\,1)"
    media.ffmpeg("-f", "lavfi", "-i", f"aevalsrc={left}|0:s=8000:d=2", "-c:a", "flac", "-sample_fmt", "s16",
                 str(path))
    return path.read_bytes()


def _output(job, content: bytes) -> JobOutput:
    output = add_output(job, report={"samples": 16000})
    output.file.save("song.flac", ContentFile(content), save=False)
    JobOutput.objects.filter(pk=output.pk).update(file=output.file.name, duration=2.0, sample_rate=8000)
    output.refresh_from_db()
    return output


@pytest.fixture
def output(team, alice, flac_bytes):
    return _output(make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0), flac_bytes)


def _card(client, job) -> str:
    return client.get(reverse("job_detail", args=[job.pk])).content.decode()


def test_the_card_asks_for_it_then_draws_it(alice_client, output):
    url = reverse("output_waveform", args=[output.pk])
    assert f'hx-get="{url}" hx-trigger="revealed"' in _card(alice_client, output.job)

    fragment = alice_client.get(url, **HTMX).content.decode()
    assert '<path d="M0 32V' in fragment
    assert "Waveform of song.flac: highest peak 0.0 dBFS, full scale reached in 240 of 480 slices" in fragment
    assert fragment.count('class="waveform-clip"') == 240
    output.refresh_from_db()
    assert len(output.waveform["peaks"]) == 480
    assert output.waveform["peaks"][0] == pytest.approx(0.5, abs=1e-3)

    card = _card(alice_client, output.job)
    assert url not in card and 'aria-labelledby="waveform-' in card  # drawn at once, not asked for


def test_it_is_measured_once(alice_client, output, monkeypatch):
    url = reverse("output_waveform", args=[output.pk])
    first = alice_client.get(url, **HTMX).content
    monkeypatch.setattr(waveforms, "waveform", lambda *args, **kwargs: pytest.fail("measured again"))
    assert alice_client.get(url, **HTMX).content == first


def test_a_card_that_asks_while_another_request_measures_asks_again(alice_client, output, monkeypatch):
    url = reverse("output_waveform", args=[output.pk])
    measure = waveforms.waveform
    seen = []

    def measure_while_a_second_card_asks(*args, **kwargs):
        seen.append(alice_client.get(url, **HTMX).content.decode())
        return measure(*args, **kwargs)

    monkeypatch.setattr(waveforms, "waveform", measure_while_a_second_card_asks)
    assert '<path d="M0 32V' in alice_client.get(url, **HTMX).content.decode()
    assert len(seen) == 1 and f'hx-get="{url}" hx-trigger="load delay:2s"' in seen[0]  # not measured twice
    assert '<path d="M0 32V' in alice_client.get(url, **HTMX).content.decode()  # the next ask draws it


def test_simultaneous_first_asks_claim_one_measurement_on_the_file_cache(file_cache):
    """The file cache's add reads, then writes: without turns, several asks could each measure."""
    at_once = 16
    start = Barrier(at_once)

    def claim(_) -> bool:
        start.wait()
        return waveforms.measurement_claim("waveform-measuring:one", 60)

    with ThreadPoolExecutor(at_once) as pool:
        assert sum(pool.map(claim, range(at_once))) == 1


def test_an_ask_that_claims_after_another_measured_takes_that_measurement(alice_client, output, monkeypatch):
    drawn = alice_client.get(reverse("output_waveform", args=[output.pk]), **HTMX).content.decode()
    assert '<path d="M0 32V' in drawn
    monkeypatch.setattr(waveforms, "waveform", lambda *args, **kwargs: pytest.fail("measured again"))
    assert output.waveform is None  # read before that ask measured
    assert waveforms.output_waveform(output).peaks[0] == pytest.approx(0.5, abs=1e-3)


def test_a_locked_output_shows_none(alice_client, team, alice, flac_bytes):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0, passwords=["red"])
    output = _output(job, flac_bytes)
    assert alice_client.get(reverse("output_waveform", args=[output.pk]), **HTMX).status_code == 403
    assert "output_waveform" not in _card(alice_client, job) and "/waveform" not in _card(alice_client, job)
    output.refresh_from_db()
    assert output.waveform is None


def test_another_teams_output_is_not_found(client, charlie, output):
    client.force_login(charlie)
    assert client.get(reverse("output_waveform", args=[output.pk]), **HTMX).status_code == 404


def test_an_undecodable_output_gets_none_and_is_not_tried_again(alice_client, completed_job):
    output = completed_job.outputs.get()  # fLaC and garbage
    url = reverse("output_waveform", args=[output.pk])
    response = alice_client.get(url, **HTMX)
    assert response.status_code == 200 and response.content == b""  # htmx removes the placeholder
    output.refresh_from_db()
    assert output.waveform == {}
    assert url not in _card(alice_client, completed_job)


def test_an_api2convert_output_is_not_asked_for(alice_client, team, alice):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0)
    output = JobOutput.objects.create(job=job, download_name="song.flac", remote_uri="https://example.com/o/1")
    assert reverse("output_waveform", args=[output.pk]) not in _card(alice_client, job)
    assert alice_client.get(reverse("output_waveform", args=[output.pk]), **HTMX).content == b""


def test_the_bands_are_steps_around_the_middle():
    shape = waveform_shape(JobOutput(download_name="song.flac"), [0.5, 1.0], [0.25, 0.5])
    # Above the middle (32) left to right, then below it right to left; 0 dBFS at the edges, -60 in
    # the middle: 0.5 (-6.0 dBFS) is 0.9 of the way out, 0.25 (-12.0) 0.8.
    assert shape.peak_path == "M0 32V3.2H240.0V0.0H480.0V64.0H240.0V60.8H0.0Z"
    assert shape.rms_path == "M0 32V6.4H240.0V3.2H480.0V60.8H240.0V57.6H0.0Z"
    assert shape.clipped == [240.0] and shape.title.endswith("full scale reached in 1 of 2 slices")


QUIET = JobOutput(download_name="quiet.flac")


def test_a_silent_output_says_so():
    shape = waveform_shape(QUIET, [0.0, 0.0005], [0.0, 0.0001])
    assert shape.title == "Waveform of quiet.flac: highest peak -66.0 dBFS" and shape.clipped == []
    assert set(re.findall(r"V([\d.]+)", shape.peak_path)) == {"32.0"}  # under -60 dBFS: on the middle line
    assert waveform_shape(QUIET, [0.0], [0.0]).title == "Waveform of quiet.flac: silent"


def test_a_file_that_cannot_be_read_now_is_tried_again(alice_client, output, monkeypatch):
    def unreadable(*args, **kwargs):
        raise OSError("Input/output error")

    monkeypatch.setattr(waveforms, "waveform", unreadable)
    url = reverse("output_waveform", args=[output.pk])
    assert alice_client.get(url, **HTMX).content == b""
    output.refresh_from_db()
    assert output.waveform is None and url in _card(alice_client, output.job)


def test_a_long_output_is_measured_by_a_worker_while_the_card_asks_again(
        alice_client, output, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.WAVEFORM_IN_REQUEST_SECONDS = 1  # the output lasts 2 s
    sent = []
    monkeypatch.setattr(tasks.output_waveform_measure, "delay", sent.append)
    url = reverse("output_waveform", args=[output.pk])
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            fragment = alice_client.get(url, **HTMX).content.decode()
        assert f'hx-get="{url}" hx-trigger="load delay:2s"' in fragment and "<svg" not in fragment
    assert sent == [str(output.pk)]  # handed over once, not at every ask
    output.refresh_from_db()
    assert output.waveform is None

    tasks.output_waveform_measure(str(output.pk))  # what the worker runs
    assert '<path d="M0 32V' in alice_client.get(url, **HTMX).content.decode()
