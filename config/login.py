"""Logging in and out: Django's views, throttled by django-axes (settings: AXES_*)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

from config.access import public

LOCKED_OUT_STATUS = 429


login = public(auth_views.LoginView.as_view())


# Anyone signed in may sign out, staff or not: the access middleware would otherwise send a
# non-staff user back to the login page while keeping the session.
logout = public(auth_views.LogoutView.as_view())


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
    }
    return render(request, "registration/login.html", context, status=LOCKED_OUT_STATUS)
