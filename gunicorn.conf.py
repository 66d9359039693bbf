"""gunicorn's configuration for Vestibule: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Command-line options override these values; the environment variables below set them
without editing the file. Secret URLs (``/i/<token>``, ``invite_id=``,
``/password/reset/<token>``, ``/verify/email/<token>``) are redacted from the access
and error logs by the logger class, with the function Vestibule's own logs use.
"""

import glob
import os

from app.observability.gunicorn_logging import RedactingLogger

#: Address to listen on (``GUNICORN_BIND``, default 0.0.0.0:8000; behind the proxy).
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
#: Worker processes (``WEB_CONCURRENCY``, default 2) and threads in each (default 4).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
#: Seconds a request may take before its worker is restarted, and a stopping worker
#: gets to finish the requests it has.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))

#: Both logs on the standard streams (the service manager keeps them). The access log
#: names no client address, user agent or referrer (personal data) and carries the
#: request id Vestibule answers with, to find the app's own lines of that request.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
logger_class = RedactingLogger

#: gunicorn itself believes X-Forwarded-Proto from nobody: the app's ProxyFix does,
#: for PROXY_FIX_HOPS proxies (one place decides whom to trust).
forwarded_allow_ips = ""
#: No runtime control socket (``gunicornc``) under $HOME: nothing uses it.
control_socket_disable = True


def on_starting(server):
    """With PROMETHEUS_MULTIPROC_DIR, create it and forget the metrics of processes
    that are gone (a ``vestibule worker`` still running keeps its own)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for path in glob.glob(os.path.join(directory, "*.db")):
        pid = os.path.basename(path)[: -len(".db")].rsplit("_", 1)[-1]
        if not (pid.isdigit() and _alive(int(pid))):
            os.remove(path)


def post_worker_init(worker):
    """gunicorn's own refusals (414 for a request line over its limit, 431, 400) are
    JSON like the app's, not an HTML page an API client cannot read."""
    from app.observability.gunicorn_errors import use_json_errors

    use_json_errors()


def child_exit(server, worker):
    """A worker's live gauges go with it (prometheus-client's multiprocess bookkeeping)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True
