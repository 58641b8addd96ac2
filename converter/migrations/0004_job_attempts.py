from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("converter", "0003_api2convert_remote_password"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
