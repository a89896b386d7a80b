"""gunicorn's own log lines in the portal's format: with PORTAL_LOG_FORMAT=json (the default in
production) one JSON object per line, like the application's, so that a log collector reads
one format from the container. docker/gunicorn.conf.py selects it.

A request's line carries its fields separately (method, path, status, duration, request id),
JSON-escaped: gunicorn's text format would put a client's quotes and newlines into the line as
they came."""

import logging

from gunicorn.glogging import Logger
from pythonjsonlogger.json import JsonFormatter

FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


class JsonLinesLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        formatter = JsonFormatter(FIELDS, rename_fields=RENAMED)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        status = resp.status_code if hasattr(resp, "status_code") else atoms["s"]
        self.access_log.log(
            logging.INFO,
            "%s %s %s",
            atoms["m"],
            atoms["U"],
            status,
            extra={
                "method": atoms["m"],
                "path": atoms["U"],
                "query": atoms["q"] or None,
                "status": status,
                "bytes": atoms["B"],
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "remote_addr": atoms["h"],
                "user_agent": atoms["a"],
                "request_id": atoms.get("{x-request-id}o"),
            },
        )
