"""Usage tests reuse the page and API fixtures: jobs made as rows, logged-in clients, API keys."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import api, issued  # noqa: F401  (fixtures, by import)
from tests.media import wav_bytes
from tests.web.conftest import _pages, alice_client  # noqa: F401


def wav_upload(seconds: float = 0.2, name: str = "tone.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, wav_bytes(seconds), content_type="audio/wav")


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="root-password-123")
    client.force_login(admin)
    return client
