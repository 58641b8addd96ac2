"""{{ seconds|audio_duration }}: audio time in the usage pages' one format (services/usage.py)."""

from django import template

from converter.services.usage import audio_duration_text

register = template.Library()
register.filter("audio_duration", audio_duration_text)
