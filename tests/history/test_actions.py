"""Re-run, edit options, delete (files gone from storage), and who may do which."""

import errno
import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.urls import reverse

from converter import tasks
from converter.models import Job, JobInput, Membership
from converter.services.jobs import JobInvalid, job_delete, job_rerun
from converter.services.quotas import QuotaExceeded
from tests.web.conftest import add_output, make_job

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def stored_job(team, alice):
    """A finished job whose input and output are real files in storage."""
    job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100, passwords=["red"],
                   options={"frequency": 48000, "channels": "mono"})
    upload = job.inputs.get()
    upload.file.save("song.wav", ContentFile(b"RIFF"))
    JobInput.objects.create(job=job, type=JobInput.Type.REMOTE, source="https://example.com/a.mp3",
                            filename="a.mp3")
    add_output(job)
    return job


def _stored_names(job) -> list[str]:
    return [item.file.name for item in [*job.inputs.all(), *job.outputs.all()] if item.file]


def test_rerun_copies_inputs_options_and_password(alice_client, stored_job, monkeypatch,
                                                  django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.job_run, "delay", sent.append)
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(reverse("job_rerun", args=[stored_job.pk]))
    rerun = Job.objects.exclude(pk=stored_job.pk).get()
    assert response.url == reverse("job_detail", args=[rerun.pk])
    assert rerun.options == stored_job.options and rerun.engine == stored_job.engine
    assert rerun.password_hashes == stored_job.password_hashes
    assert rerun.status == Job.Status.QUEUED and sent == []
    for callback in callbacks:
        callback()
    assert sent == [str(rerun.pk)]  # sent to a worker on commit, once
    upload, remote = rerun.inputs.order_by("type").reverse()
    assert upload.file.read() == b"RIFF"
    assert upload.file.name != stored_job.inputs.get(type="upload").file.name  # its own
    assert (remote.type, remote.source) == ("remote", "https://example.com/a.mp3")


def test_a_reruns_upload_is_a_hard_link_that_outlives_the_first_job(stored_job, alice, team,
                                                                     django_capture_on_commit_callbacks):
    """No byte copied or stored twice on local storage; deleting the first job keeps the re-run's file."""
    first = stored_job.inputs.get(type="upload")
    rerun = job_rerun(stored_job, user=alice)
    linked = rerun.inputs.get(type="upload")
    assert os.path.samefile(linked.file.path, first.file.path) and os.stat(first.file.path).st_nlink == 2
    assert [(item.filename, item.size, item.content_type) for item in (linked, first)] == [
        (first.filename, first.size, first.content_type)] * 2
    with django_capture_on_commit_callbacks(execute=True):
        job_delete(stored_job, membership=Membership.objects.get(team=team, user=alice))
    assert not os.path.exists(first.file.path)
    assert linked.file.open("rb").read() == b"RIFF"


def test_a_rerun_copies_where_no_link_can_be_made(stored_job, alice, monkeypatch):
    """Another filesystem (or S3: no paths at all)."""
    def across_filesystems(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", across_filesystems)
    first = stored_job.inputs.get(type="upload")
    copied = job_rerun(stored_job, user=alice).inputs.get(type="upload")
    assert copied.file.read() == b"RIFF" and not os.path.samefile(copied.file.path, first.file.path)
    assert copied.filename == first.filename


def test_a_reruns_copy_is_made_outside_any_transaction(transactional_db, stored_job, alice, monkeypatch):
    """On SQLite a transaction holds the database's write lock, and every worker's status write
    waits on it for as long as a copy to S3 takes."""
    copying_in_transaction = []

    def no_link(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    def save(self, name, content, max_length=None):
        copying_in_transaction.append(connection.in_atomic_block)
        return saved(self, name, content, max_length)

    saved = FileSystemStorage.save
    monkeypatch.setattr(os, "link", no_link)
    monkeypatch.setattr(FileSystemStorage, "save", save)
    job_rerun(stored_job, user=alice)
    assert copying_in_transaction == [False]


def test_a_rerun_that_fails_leaves_no_job_and_no_file(stored_job, alice, team, monkeypatch):
    import converter.services.jobs as jobs

    def enqueue_fails(job):
        raise RuntimeError("the broker is down")

    monkeypatch.setattr(jobs, "job_enqueue", enqueue_fails)
    before = sorted(_all_files())
    with pytest.raises(RuntimeError, match="the broker is down"):
        job_rerun(stored_job, user=alice)
    assert Job.objects.filter(team=team).count() == 1 and JobInput.objects.count() == 2
    assert sorted(_all_files()) == before


def test_a_rerun_keeps_its_copies_whatever_fails_after_its_commit(transactional_db, stored_job, alice,
                                                                   monkeypatch):
    """Only a re-run that did not commit is undone (services/jobs.py StoredBeforeRows)."""
    import converter.services.jobs as jobs

    def fails(job):
        raise RuntimeError("the database went away as well")

    monkeypatch.setattr(jobs, "_job_send", fails)
    with pytest.raises(RuntimeError):
        job_rerun(stored_job, user=alice)
    rerun = Job.objects.exclude(pk=stored_job.pk).get()
    copy = rerun.inputs.get(type="upload")
    assert rerun.status == Job.Status.QUEUED and copy.file.read() == b"RIFF"


def _all_files() -> list[str]:
    root = default_storage.location
    return [os.path.relpath(os.path.join(folder, name), root) for folder, _, names in os.walk(root)
            for name in names]


def test_rerun_needs_the_stored_uploads(stored_job, alice):
    upload = stored_job.inputs.get(type="upload")
    default_storage.delete(upload.file.name)
    with pytest.raises(JobInvalid, match="no longer stored: song.wav"):
        job_rerun(stored_job, user=alice)


def test_a_rerun_keeps_to_the_teams_file_size_quota(stored_job, alice, team):
    JobInput.objects.filter(job=stored_job, type=JobInput.Type.UPLOAD).update(size=2 * 1024**2)
    team.quota_max_file_mb = 1
    team.save()
    with pytest.raises(QuotaExceeded, match="“song.wav” is 2.0\xa0MB; your team's plan allows files up to"):
        job_rerun(stored_job, user=alice)
    assert Job.objects.filter(team=team).count() == 1


def test_edit_opens_the_convert_page_with_the_options(alice_client, stored_job):
    page = alice_client.get(reverse("job_edit", args=[stored_job.pk])).content.decode()
    assert '<option value="48000" selected>' in page and '<option value="mono" selected>' in page
    assert 'name="download_password" value=""' in page
    # What cannot be filled in is said: the files to add again, the password to give again.
    notice = page.split('<p class="notice">', 1)[1].split("</p>", 1)[0]
    upload = stored_job.inputs.get(type=JobInput.Type.UPLOAD).filename
    assert f"Add its files again: {upload}." in notice and "download password is not kept" in notice
    assert ">https://example.com/a.mp3</textarea>" in page  # its links are filled in


def test_delete_removes_rows_and_files(alice_client, stored_job, django_capture_on_commit_callbacks):
    names = _stored_names(stored_job)
    assert names and all(default_storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("job_delete", args=[stored_job.pk]), **HTMX)
    assert response.status_code == 200 and response.content == b""  # the row swaps itself away
    assert not Job.objects.filter(pk=stored_job.pk).exists()
    assert not any(default_storage.exists(name) for name in names)


def test_running_job_is_not_deleted(alice_client, team, alice):
    job = make_job(team, alice)
    response = alice_client.post(reverse("job_delete", args=[job.pk]), follow=True)
    assert "cancel it first" in response.content.decode()
    assert Job.objects.filter(pk=job.pk).exists()


@pytest.mark.parametrize(("role", "own", "allowed"), [
    ("admin", False, True), ("member", True, True), ("member", False, False), ("viewer", True, False),
])
def test_who_may_delete(client, team, alice, charlie, role, own, allowed):
    Membership.objects.create(team=team, user=charlie, role=role)
    job = make_job(team, charlie if own else alice, status=Job.Status.COMPLETED, progress=100)
    add_output(job)
    client.force_login(charlie)
    client.post(reverse("team_switch"), {"team": team.pk})
    response = client.post(reverse("job_delete", args=[job.pk]))
    assert (response.status_code == 302) is allowed
    assert Job.objects.filter(pk=job.pk).exists() is not allowed
    html = client.get(reverse("history")).content.decode()
    assert (reverse("job_delete", args=[job.pk]) in html) is False  # gone, or never offered


def test_viewer_cannot_rerun_or_convert(client, team, charlie, stored_job):
    Membership.objects.create(team=team, user=charlie, role=Membership.Role.VIEWER)
    client.force_login(charlie)
    client.post(reverse("team_switch"), {"team": team.pk})
    assert client.post(reverse("job_rerun", args=[stored_job.pk])).status_code == 403
    assert client.post(reverse("convert"), {"urls": "https://example.com/x.wav"}).status_code == 403
    assert client.post(reverse("job_cancel", args=[stored_job.pk])).status_code == 403
    html = client.get(reverse("history")).content.decode()
    assert reverse("job_rerun", args=[stored_job.pk]) not in html
    assert reverse("job_delete", args=[stored_job.pk]) not in html
    assert reverse("output_download", args=[stored_job.outputs.get().pk]) not in html  # locked
    assert Job.objects.count() == 1
