import logging

from config.checks import SUPABASE_HINT, ensure_required_secrets, supabase_rest_only

logger = logging.getLogger("config")


def on_process_start() -> None:
    """Run by the web entry points: refuse to serve without secrets (production), warn on
    a Supabase REST-only configuration."""
    ensure_required_secrets()
    if supabase_rest_only():
        logger.warning(SUPABASE_HINT)
