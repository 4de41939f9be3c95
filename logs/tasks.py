from logs.services import logs_prune


def prune_logs() -> int:
    return logs_prune()
