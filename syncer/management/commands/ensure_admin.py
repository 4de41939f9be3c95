import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure someone can log in: create or update the admin from ADMIN_USERNAME / "
        "ADMIN_PASSWORD, or, when no staff user exists yet, create 'admin' with a random password "
        "and print it once."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        username, password = settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD
        if username and password:
            user, created = User.objects.get_or_create(username=username)
            if not created and user.is_staff and user.is_superuser and user.is_active and user.check_password(password):
                # Setting the same password again changes its hash (a new salt), and that logs
                # everyone out: every `make run` restart did it.
                self.stdout.write(f"Admin '{username}' is up to date (password from ADMIN_PASSWORD).")
                return
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            user.save()
            verb = "Created" if created else "Updated"
            self.stdout.write(f"{verb} admin '{username}' (password from ADMIN_PASSWORD).")
            return
        if User.objects.filter(is_staff=True, is_active=True).exists():
            self.stdout.write(
                "Log in with your staff account (new password: python manage.py changepassword <name>)."
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username="admin", email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(f"Created admin account: username 'admin', password '{password}' ")
            + "(shown once; change it with: python manage.py changepassword admin)."
        )
