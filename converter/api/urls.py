from django.urls import path, re_path

from converter.api import (
    views_conversions,
    views_downloads,
    views_inputs,
    views_jobs,
    views_meta,
    views_presets,
    views_uploads,
    views_usage,
)
from converter.api.http import not_found

app_name = "api"

urlpatterns = [
    path("", views_meta.root, name="root"),
    path("openapi.json", views_meta.openapi, name="openapi"),
    path("statuses", views_meta.statuses, name="statuses"),
    path("conversions", views_meta.conversions, name="conversions"),
    path("jobs", views_jobs.jobs, name="jobs"),
    path("jobs/<id:job_id>", views_jobs.job_detail, name="job"),
    path("jobs/<id:job_id>/input", views_inputs.job_inputs, name="job-inputs"),
    path("jobs/<id:job_id>/input/<id:input_id>", views_inputs.job_input, name="job-input"),
    path("jobs/<id:job_id>/conversions", views_conversions.job_conversions, name="job-conversions"),
    path("jobs/<id:job_id>/conversions/<str:conversion_id>", views_conversions.job_conversion,
         name="job-conversion"),
    path("jobs/<id:job_id>/output", views_jobs.job_outputs, name="job-outputs"),
    path("jobs/<id:job_id>/output/<id:output_id>", views_jobs.job_output, name="job-output"),
    path("jobs/<id:job_id>/history", views_jobs.job_history, name="job-history"),
    path("jobs/<id:job_id>/threads", views_jobs.job_threads, name="job-threads"),
    path("presets", views_presets.presets, name="presets"),
    path("presets/<str:preset_id>", views_presets.preset_detail, name="preset"),
    path("stats/day/<str:day>/<str:filter>", views_usage.stats_day, name="stats-day"),
    path("stats/month/<str:month>/<str:filter>", views_usage.stats_month, name="stats-month"),
    path("stats/year/<str:year>/<str:filter>", views_usage.stats_year, name="stats-year"),
    path("contracts", views_usage.contracts, name="contracts"),
    # The upload "server" of every job is {base}/dl (serializers.upload_server).
    path("dl/upload-file/<id:job_id>", views_uploads.upload_file, name="upload-file"),
    path("dl/output/<id:output_id>", views_downloads.output_download, name="output-download"),
    # Anything else under /v2/ is a JSON 404, not the site's HTML page.
    re_path(r"^(?P<path>.*)$", not_found),
]
