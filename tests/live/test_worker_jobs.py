"""Jobs run by a real Celery worker process on the configured broker and database."""

import http.server
import os
import threading
import time
from functools import partial

import mutagen.flac
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from converter.models import Job
from converter.providers.cores import NICENESS, children
from converter.services.jobs import job_cancel, job_create
from converter.services.waveforms import WaveformPending, output_waveform
from tests import media

# One xdist process runs every test that needs a worker process (see tests/workers.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("live"), pytest.mark.scaleout]


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory):
    return media.tone(tmp_path_factory.mktemp("tone") / "tone.wav", seconds=2.0)


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="audio/wav")


def test_worker_converts_an_upload_with_options(worker, live_settings, alice, team, tone_wav):
    job = job_create(team=team, user=alice, uploads=[upload(tone_wav)],
                     options={"frequency": "22050", "channels": "mono", "audio_bitdepth": "24",
                              "output_filename": "result"})
    job = worker.wait_for(job)
    assert job.status == Job.Status.COMPLETED, job.errors
    assert job.progress == 100
    (output,) = job.outputs.all()
    assert output.download_name == "result.flac"
    info = mutagen.flac.FLAC(output.file.path).info
    assert (info.sample_rate, info.channels, info.bits_per_sample) == (22050, 1, 24)
    assert output.sample_rate == 22050 and output.size == output.file.size


def test_a_long_wav_encoded_in_parts_by_a_pool_process_holds_its_samples(worker, live_settings, alice, team,
                                                                          tmp_path):
    """Over a minute, alone on the worker: engine/pcm_direct.py's parts run in processes the pool
    process forks. The FLAC decodes to the WAV's samples, and STREAMINFO's MD5 is theirs."""
    import hashlib

    source = media.tone(tmp_path / "long.wav", seconds=75.0, rate=8000, channels=2)
    job = worker.wait_for(job_create(team=team, user=alice, uploads=[upload(source)], options={}))
    assert job.status == Job.Status.COMPLETED, job.errors
    (output,) = job.outputs.all()
    samples = media.pcm(source, "s16le")
    assert media.pcm(output.file.path, "s16le") == samples
    assert output.report["md5"] == hashlib.md5(samples).hexdigest()


def test_one_bad_input_fails_alone(worker, live_settings, alice, team, tone_wav):
    empty = SimpleUploadedFile("empty.wav", b"", content_type="audio/wav")
    job = worker.wait_for(job_create(team=team, user=alice, uploads=[empty, upload(tone_wav)],
                                         options={"allow_multiple_outputs": "true"}))
    assert job.status == Job.Status.COMPLETED
    assert [output.download_name for output in job.outputs.all()] == ["tone.flac"]
    (error,) = job.errors
    assert error["source"] == "input" and error["message"] == "The file is empty"


def test_worker_fetches_a_url_input(worker, live_settings, alice, team, tone_wav):
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tone_wav.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{tone_wav.name}"
        job = worker.wait_for(job_create(team=team, user=alice, urls=[url], options={}))
    finally:
        server.shutdown()
    assert job.status == Job.Status.COMPLETED, job.errors
    assert job.outputs.get().download_name == "tone.flac"


def test_a_pool_process_takes_a_queued_job_whose_message_it_never_got(worker, live_settings, alice, team,
                                                                       tone_wav):
    """services/drain.py: after the job its message named, the pool process takes the queued one."""
    unsent = job_create(team=team, user=alice, uploads=[upload(tone_wav)], options={}, process=False)
    Job.objects.filter(pk=unsent.pk).update(status=Job.Status.QUEUED)  # queued, no message sent
    sent = worker.wait_for(job_create(team=team, user=alice, uploads=[upload(tone_wav)], options={}))
    unsent = worker.wait_for(unsent, timeout=30)
    assert sent.status == unsent.status == Job.Status.COMPLETED
    assert unsent.attempts == 1 and unsent.outputs.count() == 1


def test_cancel_stops_a_running_conversion(worker, live_settings, alice, team, tmp_path):
    long_wav = media.tone(tmp_path / "long.wav", seconds=600.0)
    job = job_create(team=team, user=alice, uploads=[upload(long_wav)],
                     options={"normalize": "true", "normalize_type": "ebu"})
    worker.wait_for(job, statuses=(Job.Status.PROCESSING, *Job.TERMINAL))
    job_cancel(job)
    job = worker.wait_for(job, timeout=30)
    assert job.status == Job.Status.CANCELED
    assert not job.outputs.exists()


def test_the_worker_measures_a_long_outputs_waveform(worker, live_settings, alice, team, tone_wav):
    """What a card hands over (services/waveforms.py): the task, sent to and run by the worker."""
    job = worker.wait_for(job_create(team=team, user=alice, uploads=[upload(tone_wav)], options={}))
    output = job.outputs.get()
    live_settings.WAVEFORM_IN_REQUEST_SECONDS = 1  # the output lasts 2 s
    with pytest.raises(WaveformPending):  # sent at once: no transaction is open here
        output_waveform(output)
    deadline = time.monotonic() + 60
    while output.waveform is None and time.monotonic() < deadline:
        time.sleep(0.1)
        output.refresh_from_db()
    assert len(output.waveform["peaks"]) == 480 and max(output.waveform["peaks"]) > 0.1


def test_normalised_silence_has_a_report_every_database_stores(worker, live_settings, alice, team, tmp_path):
    """Digital silence measures -inf dB, no JSON number: PostgreSQL refused such a report."""
    silent = media.silence(tmp_path / "silent.wav", seconds=2.0)
    job = job_create(team=team, user=alice, uploads=[upload(silent)],
                     options={"normalize": "true", "normalize_type": "peak"})
    job = worker.wait_for(job)
    assert job.status == Job.Status.COMPLETED, job.errors
    (output,) = job.outputs.all()
    assert "The audio is silent, so it was not normalised" in output.report["warnings"]


def test_the_pool_processes_convert_as_batch_work(worker, settings):
    """Their ffmpeg inherits the policy (providers/cores.py). The main process hands out the jobs:
    on the embedded broker while the pool converts, so as batch work too, every thread of it;
    with a server broker between two jobs, so with the normal policy."""
    main = worker.process.pid
    pool = children(main)
    assert len(pool) == 2
    assert [os.sched_getscheduler(pid) for pid in pool] == [os.SCHED_BATCH] * 2
    assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pool] == [NICENESS] * 2  # the web first
    threads = [int(thread) for thread in os.listdir(f"/proc/{main}/task")]
    embedded = settings.CELERY_BROKER_URL.startswith("filesystem://")
    assert {os.sched_getscheduler(thread) for thread in threads} == {
        os.SCHED_BATCH if embedded else os.SCHED_OTHER}
    assert {os.getpriority(os.PRIO_PROCESS, thread) for thread in threads} == {NICENESS if embedded else 0}


def test_a_worker_starts_without_warnings(worker, settings):
    """What an administrator of `make run` reads at every start: kombu warned "No hostname was
    supplied" on the embedded broker, a folder with no host (converter/broker.py). A server broker
    may rightly warn of a slow first connection."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the embedded broker's start")
    started = worker.log.read_text(errors="replace").split("ready.")[0]
    assert " WARNING " not in started, started


def test_a_job_submitted_while_the_broker_is_down_runs_once_the_reaper_sends_it(
        worker, live_settings, alice, team, tone_wav, monkeypatch):
    """A real connection refused: the message goes to a port nothing listens on. The job is kept,
    marked unsent; the reaper's sweep sends it on the real broker, and the worker converts it."""
    from kombu import Connection

    from converter import tasks
    from converter.services.reaper import jobs_reap

    with Connection("redis://127.0.0.1:1/0") as nowhere:
        monkeypatch.setattr(tasks.job_run, "delay",
                            lambda *args: tasks.job_run.apply_async(args, connection=nowhere))
        job = job_create(team=team, user=alice, uploads=[upload(tone_wav)], options={})
    job.refresh_from_db()
    assert (job.status, job.unsent) == (Job.Status.QUEUED, True)
    assert "The task queue could not be reached" in job.events.last().message
    monkeypatch.undo()
    assert jobs_reap()["resent"] == 1
    job = worker.wait_for(job)
    assert job.status == Job.Status.COMPLETED and not job.unsent, job.errors


def test_the_worker_retries_a_callback_on_the_real_broker_until_it_is_delivered(
        worker, live_settings, alice, team, tone_wav):
    """The completed callback's first POST answered 503: its retry, 5 s later, is a countdown
    message on the real broker; the second POST is delivered and the row says so."""
    from converter.models import CallbackDelivery
    from tests.api.test_callbacks import Receiver

    receiver = Receiver([503])
    try:
        job = worker.wait_for(job_create(team=team, user=alice, uploads=[upload(tone_wav)], options={},
                                         fields={"callback": receiver.url}))
        assert job.status == Job.Status.COMPLETED, job.errors
        deadline = time.monotonic() + 60
        while (delivery := CallbackDelivery.objects.get(job=job)).state == CallbackDelivery.State.PENDING:
            assert time.monotonic() < deadline, "the callback was not delivered"
            time.sleep(0.2)
    finally:
        receiver.close()
    assert (delivery.status, delivery.state, delivery.attempts) == ("completed", "delivered", 2)
    assert len(receiver.received) == 2 and receiver.received[0][1] == receiver.received[1][1]
    assert delivery.last_error == "answered 503"
