"""Runs jobs on api2convert with the team's own key: submit in the job_run task, then poll
in a self-rescheduling Celery task.

Modules: client (SDK client, failure mapping), crypto (secrets at rest), submit, poll,
job_state (applying remote state), status_map, callbacks, download_proxy, accounts,
provider (the interface services call). Kept import-free: services import crypto.
"""
