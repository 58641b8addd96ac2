"""The convert form's password for protected files (encrypted ZIPs, PDFs): given to every input of
the job, kept encrypted, never shown back, and not sent with each option's validation."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from converter.models import Job, JobInput
from converter.services.jobs import job_run
from converter.services.passwords import input_password
from tests import media
from tests.web.uploads import wav_header
from tests.zips import member, write_zip


def test_the_form_has_a_labelled_password_field_left_out_of_option_checks(alice_client):
    page = alice_client.get(reverse("convert")).content.decode()
    assert '<label for="input_password">Password of protected files</label>' in page
    assert '<input type="password" id="input_password" name="input_password"' in page
    assert 'hx-params="not files,urls,input_password,preset_name"' in page


def test_every_input_of_the_job_gets_the_password(alice_client, settings):
    settings.ALLOW_PRIVATE_URLS = True
    response = alice_client.post(reverse("convert"), {"files": [wav_header("a.zip"), wav_header("b.pdf")],
                                                      "urls": "http://127.0.0.1:9/c.zip",
                                                      "input_password": "s3cret"})
    assert response.status_code == 302
    inputs = Job.objects.get().inputs.all()
    assert len(inputs) == 3 and {input_password(item) for item in inputs} == {"s3cret"}
    assert all("s3cret" not in item.decrypt_password_encrypted for item in inputs)


def test_no_password_stores_none(alice_client):
    alice_client.post(reverse("convert"), {"files": [wav_header()], "input_password": ""})
    assert JobInput.objects.get().decrypt_password_encrypted == ""


def test_a_refused_job_does_not_show_the_password_back(alice_client):
    response = alice_client.post(reverse("convert"), {"input_password": "s3cret"})  # no file, no URL
    assert response.status_code == 422 and "Give at least one file or URL." in response.content.decode()
    assert "s3cret" not in response.content.decode()
    too_long = alice_client.post(reverse("convert"), {"files": [wav_header()], "input_password": "x" * 201})
    assert too_long.status_code == 422 and "at most 200 characters" in too_long.content.decode()
    assert not Job.objects.exists()


def test_an_encrypted_zip_from_the_form_converts_and_its_password_is_forgotten(alice_client, tmp_path):
    song = media.tone(tmp_path / "song.wav", seconds=0.5).read_bytes()
    archive = write_zip(tmp_path / "take.zip", [member("song.wav", song, password="s3cret")])
    upload = SimpleUploadedFile("take.zip", archive.read_bytes(), content_type="application/zip")
    alice_client.post(reverse("convert"), {"files": [upload], "input_password": "s3cret"})
    job = Job.objects.get()
    job.status = Job.Status.QUEUED  # as job_enqueue, without a worker
    job.save()
    job_run(str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED, job.errors
    assert [output.download_name for output in job.outputs.all()] == ["song.flac"]
    assert job.inputs.get().decrypt_password_encrypted == ""
