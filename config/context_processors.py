from django.conf import settings

from config.checks import missing_secrets


def app_status(request):
    """What every page's layout needs: the missing configuration, shown as a banner."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"missing_settings": missing_secrets(), "debug": settings.DEBUG}
