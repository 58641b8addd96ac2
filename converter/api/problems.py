"""The services' exceptions as the vendor's error bodies, for the views that call those services."""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied

from converter.api.http import ApiProblem, invalid_field
from converter.options import OptionsInvalid
from converter.services.job_edits import JobStarted
from converter.services.jobs import JobInvalid
from converter.services.outputs import OutputNotChangeable
from converter.services.presets import PresetNameInvalid
from converter.services.quotas import QuotaExceeded


@contextmanager
def service_problems():
    """403 for a role that may not; 400 naming each bad option, or a preset's bad name; 402 for a
    quota (the vendor's "payment required"); 409 for a job that has started, or an output that cannot
    change yet or there; 400 for any other JobInvalid."""
    try:
        yield
    except PermissionDenied as exc:
        raise ApiProblem(403, str(exc) or "Your role in this team does not allow this.") from None
    except OptionsInvalid as exc:
        raise ApiProblem(400, str(exc), errors=exc.errors) from None
    except PresetNameInvalid as exc:
        raise invalid_field("name", str(exc)) from None
    except QuotaExceeded as exc:  # the subclasses of JobInvalid first
        raise ApiProblem(402, str(exc)) from None
    except (JobStarted, OutputNotChangeable) as exc:
        raise ApiProblem(409, str(exc)) from None
    except JobInvalid as exc:
        raise ApiProblem(400, str(exc)) from None
