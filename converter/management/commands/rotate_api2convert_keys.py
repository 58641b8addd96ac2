"""Re-encrypt every stored secret with the first of FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first, keep the old ones after it, run this, then drop the old ones.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from converter.models import Api2convertAccount, Job, JobInput
from converter.providers.api2convert import crypto


class Command(BaseCommand):
    help = ("Re-encrypt the teams' api2convert keys (and pending download and input passwords) with the "
            "first key.")

    @transaction.atomic
    def handle(self, *args, **options):
        accounts = jobs = inputs = 0
        try:
            for account in Api2convertAccount.objects.select_for_update():
                account.key_encrypted = crypto.reencrypt(account.key_encrypted)
                account.save(update_fields=["key_encrypted"])
                accounts += 1
            for job in Job.objects.select_for_update().exclude(remote_password_encrypted=""):
                job.remote_password_encrypted = crypto.reencrypt(job.remote_password_encrypted)
                job.save(update_fields=["remote_password_encrypted"])
                jobs += 1
            for job_input in JobInput.objects.select_for_update().exclude(decrypt_password_encrypted=""):
                job_input.decrypt_password_encrypted = crypto.reencrypt(job_input.decrypt_password_encrypted)
                job_input.save(update_fields=["decrypt_password_encrypted"])
                inputs += 1
        except crypto.InvalidToken:
            raise CommandError("A secret opens with none of FIELD_ENCRYPTION_KEYS; nothing was changed. "
                               "Keep the old keys in the list (after the new one) while rotating.") from None
        self.stdout.write(f"Re-encrypted {accounts} api2convert key(s), {jobs} pending download "
                          f"password(s) and {inputs} pending input password(s).")
