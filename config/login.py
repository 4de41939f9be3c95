"""Logging in and out: Django's views, throttled by django-axes (settings: AXES_*) per user name
and address, and per address across user names (`AddressLimitBackend`)."""

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone

from config.access import public

LOCKED_OUT_STATUS = 429


login = public(auth_views.LoginView.as_view())


# Anyone signed in may sign out, staff or not: the access middleware would otherwise send a
# non-staff user back to the login page while keeping the session.
logout = public(auth_views.LogoutView.as_view())


class AddressLimitBackend:
    """Refuses every login from an address with LOGIN_ADDRESS_FAILURE_LIMIT wrong passwords in
    the last LOGIN_LOCKOUT_MINUTES, whatever the user names: axes locks a user name and address
    pair, which four tries for each of many names never reach (password spraying).

    Placed after axes' backend (which has set `request.axes_ip_address`) and before the one that
    checks passwords; it counts axes' own records of failures, one row per name and address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        address, limit = getattr(request, "axes_ip_address", None), settings.LOGIN_ADDRESS_FAILURE_LIMIT
        if not address or not limit or address_failures(address) < limit:  # 0: no address limit
            return None
        request.axes_locked_out = True  # axes' middleware answers with `locked_out` below
        request.address_locked_out = address
        raise PermissionDenied("too many failed logins from this address")

    # No `get_user`: it logs no one in, and `force_login` takes the first backend that has one.


def address_failures(address: str) -> int:
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since)
    return failures.aggregate(total=Sum("failures_since_start"))["total"] or 0


def locked_out(request, response=None, credentials=None):
    """`AXES_LOCKOUT_CALLABLE`: the login page again, saying why and for how long (429).

    The user name stays in the form; the password is never checked while locked out.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = AuthenticationForm(request, data=request.POST or None)
    context = {
        "form": form,
        "locked_out": True,
        "lockout_minutes": minutes,
        "next": request.POST.get("next", ""),
        "locked_address": getattr(request, "address_locked_out", ""),
    }
    return render(request, "registration/login.html", context, status=LOCKED_OUT_STATUS)
