"""gunicorn's request log without the secrets that travel in a URL.

A password link (/account/reset/<token>) is a working key until it is used: its token must not
land in a log file that operators, log shippers and backups keep. `flask serve` runs gunicorn
with `--logger-class shopadmin.access_log.RedactingLogger`; every atom of a log line (request
line, path, referrer, environment values) has the token replaced.
"""

import re

from gunicorn.glogging import Logger

SECRET_IN_PATH = re.compile(r"(/account/reset/)[^/?#\s\"]+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return SECRET_IN_PATH.sub(REDACTED, text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in atoms.items()}


def gunicorn_command(python: str, bind: str, threads: int, workers: int = 1) -> list[str]:
    """The gunicorn command line `flask serve` runs."""
    return [
        python, "-m", "gunicorn", "wsgi:app", "--config", "python:shopadmin.serving",
        "--bind", bind, "--workers", str(workers),
        "--worker-class", "gthread", "--threads", str(threads), "--access-logfile", "-",
        "--logger-class", "shopadmin.access_log.RedactingLogger",
    ]
