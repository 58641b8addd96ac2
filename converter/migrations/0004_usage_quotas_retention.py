from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("converter", "0003_api2convert_remote_password"),
    ]

    operations = [
        migrations.AddField(model_name="job", name="input_bytes", field=models.BigIntegerField(default=0)),
        migrations.AddField(model_name="job", name="output_bytes", field=models.BigIntegerField(default=0)),
        migrations.AddField(model_name="job", name="audio_seconds", field=models.FloatField(default=0)),
        migrations.AddField(model_name="job", name="processing_seconds", field=models.FloatField(default=0)),
        migrations.AddField(model_name="job", name="error_code", field=models.CharField(blank=True, max_length=64)),
        migrations.AddField(model_name="job", name="expires_at",
                            field=models.DateTimeField(blank=True, db_index=True, null=True)),
        migrations.AddField(model_name="job", name="expired", field=models.BooleanField(default=False)),
        migrations.AddField(model_name="team", name="retention_days", field=models.PositiveIntegerField(
            blank=True, help_text="Days results are kept. Empty: the site default.", null=True)),
        migrations.AddField(model_name="team", name="quota_jobs_per_month",
                            field=models.PositiveIntegerField(blank=True, null=True)),
        migrations.AddField(model_name="team", name="quota_audio_minutes_per_month",
                            field=models.PositiveIntegerField(blank=True, null=True)),
        migrations.AddField(model_name="team", name="quota_max_file_mb", field=models.PositiveIntegerField(
            blank=True, null=True, verbose_name="Quota max file (MiB)")),
        migrations.AddField(model_name="team", name="quota_concurrent_jobs",
                            field=models.PositiveIntegerField(blank=True, null=True)),
    ]
