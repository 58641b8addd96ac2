"""A selection's outputs as one streamed ZIP; locked ones are left out, and said so."""

import hashlib
import io
import subprocess
import time
import zipfile

from django.core.files.base import ContentFile
from django.urls import reverse

from converter.models import Job, JobOutput
from tests.web.conftest import FLAC_BYTES, add_output, make_job


def _zip(response) -> zipfile.ZipFile:
    assert response.streaming and response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    assert len(body) == int(response["Content-Length"])
    return zipfile.ZipFile(io.BytesIO(body))


def test_zip_streams_the_selected_outputs(alice_client, team, alice):
    first = make_job(team, alice, status=Job.Status.COMPLETED, progress=100)
    second = make_job(team, alice, status=Job.Status.COMPLETED, progress=100)
    add_output(first, "a.flac"), add_output(first, "b.flac"), add_output(second, "a.flac")
    unselected = make_job(team, alice, status=Job.Status.COMPLETED, progress=100)
    add_output(unselected, "c.flac")
    response = alice_client.get(reverse("history_zip"), {"job": [first.pk, second.pk, "not-a-uuid"]})
    archive = _zip(response)
    names = archive.namelist()
    assert sorted(name.rsplit("/", 1)[1] for name in names) == ["a.flac", "a.flac", "b.flac"]
    assert len({name.split("/")[0] for name in names}) == 2  # a folder per job
    assert all(archive.read(name) == FLAC_BYTES for name in names)
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    assert response["Content-Disposition"].startswith('attachment; filename="team-a-')


def test_locked_outputs_are_skipped_unless_unlocked(alice_client, team, alice, protected_output):
    open_job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100)
    add_output(open_job, "open.flac")
    query = {"job": [open_job.pk, protected_output.job.pk]}
    archive = _zip(alice_client.get(reverse("history_zip"), query))
    names = [name.rsplit("/", 1)[-1] for name in archive.namelist()]
    assert names == ["open.flac", "skipped.txt"]
    assert b"song.flac: password protected" in archive.read("skipped.txt")
    page = alice_client.get(reverse("history")).content.decode()
    assert "Left out of the ZIP (see skipped.txt in it): song.flac." in page

    alice_client.post(reverse("output_download", args=[protected_output.pk]), {"password": "red"})
    archive = _zip(alice_client.get(reverse("history_zip"), query))
    assert sorted(name.rsplit("/", 1)[-1] for name in archive.namelist()) == ["open.flac", "song.flac"]


def test_nothing_to_zip_goes_back_with_a_message(alice_client, protected_output):
    response = alice_client.get(reverse("history_zip"), {"job": protected_output.job.pk}, follow=True)
    assert "Left out of the ZIP" in response.content.decode()
    response = alice_client.get(reverse("history_zip"), follow=True)
    assert "Select finished jobs with results" in response.content.decode()


def test_zip_is_not_built_in_memory(alice_client, team, alice, monkeypatch):
    """Each file is opened only when the reading reaches it, at most a few chunks ahead of the
    sending (converter/read_ahead.py): never all of them at once."""
    from converter.services import zips

    jobs = [make_job(team, alice, status=Job.Status.COMPLETED, progress=100) for _ in range(5)]
    for job in jobs:
        output = add_output(job)
        output.size = zips.CHUNK * 4  # 4 chunks each
        output.file.save("big.flac", ContentFile(b"f" * output.size), save=True)
    opened, original = [], zips.stored_stream
    monkeypatch.setattr(zips, "stored_stream", lambda stored: opened.append(stored.name) or original(stored))
    response = alice_client.get(reverse("history_zip"), {"job": [job.pk for job in jobs]})
    chunks = iter(response.streaming_content)
    next(chunks)
    time.sleep(0.3)  # the reading thread fills what it may read ahead, and waits
    assert len(opened) <= 2  # 8 items ahead: the first file's 6 (header, 4 chunks, descriptor), then the next
    b"".join(chunks)
    assert len(opened) == 5


def test_the_zip_lists_each_files_sha256_for_sha256sum(alice_client, team, alice, tmp_path):
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100)
    ours, vendors = add_output(job, "ours.flac"), add_output(job, "vendors.flac")
    JobOutput.objects.filter(pk=ours.pk).update(checksum=hashlib.sha256(FLAC_BYTES).hexdigest())
    JobOutput.objects.filter(pk=vendors.pk).update(checksum="cd" * 20)  # a SHA-1: not in SHA256SUMS
    archive = _zip(alice_client.get(reverse("history_zip"), {"job": job.pk}))
    [line] = archive.read("SHA256SUMS").decode().splitlines()
    assert line.endswith("/ours.flac")
    archive.extractall(tmp_path)
    checked = subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=tmp_path, capture_output=True,
                             text=True)
    assert checked.returncode == 0 and checked.stdout.endswith("/ours.flac: OK\n"), checked


def test_a_zip_left_mid_way_ends_its_reading_thread(alice_client, team, alice):
    """The files are read ahead in a thread (converter/read_ahead.py); a client that leaves has
    the response closed, and the thread ends with it."""
    import threading

    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100)
    for number in range(6):  # more parts than the thread may read ahead: it waits, running
        add_output(job, f"{number}.flac")
    before = threading.active_count()
    response = alice_client.get(reverse("history_zip"), {"job": [job.pk]})
    next(iter(response.streaming_content))
    assert threading.active_count() == before + 1
    response.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before:
        assert time.monotonic() < deadline, "the reading thread is still running"
        time.sleep(0.01)
