import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("converter", "0004_job_attempts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Invite",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("role", models.CharField(choices=[("owner", "Owner"), ("admin", "Admin"), ("member", "Member"),
                                                   ("viewer", "Viewer")], default="member", max_length=10)),
                ("token_hash", models.CharField(blank=True, db_index=True, max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                ("team", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="invites",
                                           to="converter.team")),
                ("user", models.ForeignKey(blank=True, help_text="Set for an invite by username.", null=True,
                                           on_delete=django.db.models.deletion.CASCADE,
                                           related_name="invites_received", to=settings.AUTH_USER_MODEL)),
                ("created_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name="+", to=settings.AUTH_USER_MODEL)),
                ("used_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                              related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["-created_at"]},
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["team", "status", "-created_at"], name="job_team_status_newest"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["team", "created_by", "-created_at"], name="job_team_creator_newest"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["team", "engine", "-created_at"], name="job_team_engine_newest"),
        ),
    ]
