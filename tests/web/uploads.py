"""Files for the convert form's tests that never reach a worker."""

from django.core.files.uploadedfile import SimpleUploadedFile


def wav_header(name: str = "a.wav") -> SimpleUploadedFile:
    """A WAV's first bytes only: enough for the form, which checks no content."""
    return SimpleUploadedFile(name, b"RIFF....WAVE", content_type="audio/wav")
