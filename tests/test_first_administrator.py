"""The first administrator comes from createsuperuser --noinput, as the README says."""

import pytest
from django.core.management import call_command

from converter.models import Membership


@pytest.mark.django_db
def test_createsuperuser_noinput_then_the_convert_page(monkeypatch, client, django_user_model):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password-42")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    call_command("createsuperuser", "--noinput", verbosity=0)
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("a-long-admin-password-42")

    client.force_login(admin)
    assert client.get("/").status_code == 200
    # A user made outside sign-up gets a personal team on first visit.
    assert Membership.objects.get(user=admin).role == Membership.Role.OWNER
    assert client.get("/admin/").status_code == 200
