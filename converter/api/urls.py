from django.urls import path, re_path

from converter.api import views_downloads, views_jobs, views_meta, views_uploads
from converter.api.http import not_found

app_name = "api"

urlpatterns = [
    path("", views_meta.root, name="root"),
    path("openapi.json", views_meta.openapi, name="openapi"),
    path("statuses", views_meta.statuses, name="statuses"),
    path("conversions", views_meta.conversions, name="conversions"),
    path("jobs", views_jobs.jobs, name="jobs"),
    path("jobs/<uuid:job_id>", views_jobs.job_detail, name="job"),
    path("jobs/<uuid:job_id>/input", views_jobs.job_inputs, name="job-inputs"),
    path("jobs/<uuid:job_id>/input/<uuid:input_id>", views_jobs.job_input, name="job-input"),
    path("jobs/<uuid:job_id>/output", views_jobs.job_outputs, name="job-outputs"),
    path("jobs/<uuid:job_id>/output/<uuid:output_id>", views_jobs.job_output, name="job-output"),
    path("jobs/<uuid:job_id>/history", views_jobs.job_history, name="job-history"),
    # The upload "server" of every job is {base}/dl (serializers.upload_server).
    path("dl/upload-file/<uuid:job_id>", views_uploads.upload_file, name="upload-file"),
    path("dl/output/<uuid:output_id>", views_downloads.output_download, name="output-download"),
    # Anything else under /v2/ is a JSON 404, not the site's HTML page.
    re_path(r"^(?P<path>.*)$", not_found),
]
