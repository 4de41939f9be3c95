"""Connect Trakt from a terminal: device code (default) or a pasted authorization code."""

import time

from django.core.management.base import BaseCommand, CommandError

from syncer.http import ApiError
from syncer.models import TraktDeviceCode
from syncer.trakt_connection.oauth import (
    trakt_authorize_url,
    trakt_code_exchange,
    trakt_device_poll,
    trakt_device_start,
    trakt_disconnect,
)
from syncer.trakt_connection.tokens import trakt_token_status


class Command(BaseCommand):
    help = "Connect Trakt: shows a code to enter on trakt.tv and waits (or --code to paste one)."

    def add_arguments(self, parser):
        parser.add_argument("--code", help="an authorization code pasted from the authorize page")
        parser.add_argument("--url", action="store_true", help="print the authorize URL for --code")
        parser.add_argument("--status", action="store_true", help="show the connection state")
        parser.add_argument("--disconnect", action="store_true", help="revoke and forget the token")

    def handle(self, *args, code=None, url=False, status=False, disconnect=False, **options):
        try:
            if url:
                self.stdout.write(f"Open {trakt_authorize_url()}\nthen run: manage.py trakt_auth --code <code>")
            elif status:
                self.stdout.write(trakt_token_status()["message"])
            elif disconnect:
                trakt_disconnect()
                self.stdout.write("Trakt disconnected.")
            elif code:
                self.stdout.write(self.style.SUCCESS(trakt_code_exchange(code=code)["message"]))
            else:
                self._device_flow()
        except ApiError as exc:
            raise CommandError(str(exc)) from None

    def _device_flow(self, sleep=time.sleep):
        device = trakt_device_start()
        self.stdout.write(f"Open {device.verification_url} and enter the code: {device.user_code}")
        self.stdout.write("Waiting (Ctrl-C to stop)...")
        while device.state == TraktDeviceCode.State.PENDING:
            sleep(device.interval)
            device = trakt_device_poll(device=device)
        if device.state != TraktDeviceCode.State.CONNECTED:
            raise CommandError(device.message)
        self.stdout.write(self.style.SUCCESS(trakt_token_status()["message"]))
