import logging

from logs.context import current_run_id
from logs.redact import redact

LEVEL_NAMES = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warn",
    logging.ERROR: "error",
    logging.CRITICAL: "error",
}


class DatabaseLogHandler(logging.Handler):
    """Writes the app's log records to the `logs` table (level, message, time, run).

    Levels use the original app's words (`info`, `warn`, `error`, plus `debug`) so an adopted
    dashboard reads the same. The message is redacted here as well as by the filter, because a
    handler added by hand may have no filter.
    """

    def emit(self, record: logging.LogRecord) -> None:
        # Imported here: the logging config loads this module before the apps are ready.
        from logs.models import LogEntry

        try:
            message = redact(self.format_message(record))
            LogEntry.objects.create(
                message=message,
                level=LEVEL_NAMES.get(record.levelno, "info"),
                logger=record.name,
                run_id=getattr(record, "run_id", None) or current_run_id.get(),
            )
        except Exception:
            # Never let logging break a sync (e.g. the database is down); Python's default
            # handleError prints to stderr.
            self.handleError(record)

    @staticmethod
    def format_message(record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_text:
            message = f"{message}\n{record.exc_text}"
        elif record.exc_info:
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
        return message
