"""Which sync run the current thread is working for, so every log line can point at it."""

import contextlib
import contextvars

current_run_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("current_run_id", default=None)


@contextlib.contextmanager
def log_to_run(run_id: int | None):
    token = current_run_id.set(run_id)
    try:
        yield
    finally:
        current_run_id.reset(token)
