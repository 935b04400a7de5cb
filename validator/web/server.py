"""`python -m validator serve`: the validator as a local web app, on the standard library's HTTP server.

Who can drive it:
- it listens on the loopback interface only, unless both ``--host`` and ``--allow-remote`` are given;
- the address printed at start (and opened in the browser) carries a one-time code, ``?code=``: the first visit
  exchanges it for a session cookie and redirects to the same address without it; the code then no longer
  works. The cookie's name is random per run (cookies for 127.0.0.1 go to every port, so another local app's
  cookies never collide with it) and its value is a separate random session key, never the code. Every other
  request needs the cookie; anything else gets 403. The browser is opened through a private launch file
  (mode 0600) that redirects to the address, so the code is never on a command line (``/proc/*/cmdline``);
- the Host header must be an IP address, ``localhost`` or the ``--host`` name, with the app's port, so a web
  page on another site cannot reach the app by pointing its own name at 127.0.0.1 (DNS rebinding);
- a form sent from another origin is refused.

Connections: each socket times out after ``IDLE_TIMEOUT`` seconds without data, and at most
``MAX_CONNECTIONS`` are served at once; at the cap, the oldest connection that has not yet sent its request
headers is closed, so idle connections from anyone local cannot lock the user out.

Pages load nothing from elsewhere (Content-Security-Policy ``default-src 'self'``). Uploads live in the
session's temporary folder (see session.py), deleted when the session is cleared or the server stops.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ..engine.model import find_rules, rules_for
from ..outputs.rule_doc import RULE_DOC_CSS
from ..years import SUPPORTED_YEARS, year_containing
from . import pages
from .downloads import find_download
from .multipart import MultipartError, parse_multipart
from .session import FormError, Session, remove_stale_upload_folders

DEFAULT_MAX_UPLOAD = 500 * 1024 * 1024
IDLE_TIMEOUT = 20.0  # seconds a connection may send nothing
MAX_CONNECTIONS = 32
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {  # a fixed list: no path from the address reaches the disk
    "app.css": (STATIC / "app.css", "text/css; charset=utf-8"),
    "app.js": (STATIC / "app.js", "text/javascript; charset=utf-8"),
    "rule_doc.css": (RULE_DOC_CSS, "text/css; charset=utf-8"),  # the rule pages' style, shared with `rules pages`
}
_REPORT_CSP = re.compile(rb'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


class RemoteBindError(ValueError):
    """Asked to listen on an address other than loopback without --allow-remote."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class WebServer(ThreadingHTTPServer):
    """The app: an HTTP server with its key, its session and the names it answers to."""

    daemon_threads = True

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_remote: bool = False,
        code: str | None = None,
        max_upload: int = DEFAULT_MAX_UPLOAD,
        today: dt.date | None = None,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise RemoteBindError(
                f"refusing to listen on {host}: the app is for this computer only (127.0.0.1). To let other "
                "computers reach it, give --allow-remote as well: anyone who has the key can then upload and read data"
            )
        bind = "127.0.0.1" if host.lower() == "localhost" else host.strip("[]")
        if ":" in bind:
            self.address_family = socket.AF_INET6
        super().__init__((bind, port), Handler)
        self.host = bind
        self.port: int = self.server_address[1]
        self.code: str | None = code or secrets.token_urlsafe(32)  # one-time: exchanged for the cookie
        self.address = self._address(self.code)
        self.session_key = secrets.token_urlsafe(32)  # the cookie's value: not the code
        self.cookie_name = f"cscvalidate_{secrets.token_hex(8)}"  # cookies ignore ports: a name of this run's own
        self.idle_timeout = IDLE_TIMEOUT
        self.max_connections = MAX_CONNECTIONS
        self._connections: dict[socket.socket, bool] = {}  # open connection -> has sent its request headers
        self._connections_lock = threading.Lock()
        self._code_lock = threading.Lock()
        self.max_upload = max_upload
        self.today = today
        self.extra_hosts = {host.lower().strip("[]")} if allow_remote else set()
        self.session = Session(max_total=max_upload)  # the uploads on disk: one run's, never more than one upload

    def _address(self, code: str) -> str:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{self.port}/?{urlencode({'code': code})}"

    @property
    def url(self) -> str:
        """The address to open, with the one-time code (it works once)."""
        return self.address

    def redeem(self, code: str) -> bool:
        """Whether ``code`` is the one-time code, not used before; using it makes it void."""
        with self._code_lock:
            if self.code is None or not secrets.compare_digest(code.encode(), self.code.encode()):
                return False
            self.code = None
            return True

    # -- connections: a timeout on each, a cap on how many, idle ones dropped first at the cap -----------------

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            if len(self._connections) >= self.max_connections:
                idle = [c for c, busy in self._connections.items() if not busy]
                if not idle:
                    self.shutdown_request(request)
                    return
                _drop(idle[0])  # the oldest (dicts keep insertion order)
                del self._connections[idle[0]]
            self._connections[request] = False
        super().process_request(request, client_address)

    def started(self, request: Any) -> None:
        """A connection has sent its request headers."""
        with self._connections_lock:
            if request in self._connections:
                self._connections[request] = True

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    @property
    def connections(self) -> int:
        with self._connections_lock:
            return len(self._connections)

    def close(self) -> None:
        """Stop listening and delete every uploaded file."""
        self.server_close()
        self.session.close()


def _drop(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    server: WebServer
    server_version = "cscvalidate"
    sys_version = ""

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # applied to the socket by StreamRequestHandler.setup
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: nothing is logged (the first request's address holds the key)."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    # ------------------------------------------------------------------------------------------ gatekeeping

    def _handle(self, method: str) -> None:
        self.server.started(self.request)
        try:
            url = urlsplit(self.path)
            if not self._host_ok():
                self._refuse("This address is not the app's: open the address printed when it started.")
                return
            query = parse_qs(url.query)
            given = query.pop("code", [None])[0]
            if given is not None and method == "GET" and not self._cookie_ok():
                if not self.server.redeem(given):
                    self._refuse(
                        "This start address has been used already, or is wrong: it works once. Stop the app "
                        "(Ctrl+C) and start it again for a new one."
                    )
                    return
                rest = urlencode(query, doseq=True)  # keep the code out of the address bar and the history
                self._redirect(url.path + (f"?{rest}" if rest else ""), cookie=True)
                return
            if not self._cookie_ok():
                self._refuse(
                    "This page needs the app's key: open the address printed when `python -m validator serve` "
                    "started (it ends with ?code=...); it works once."
                )
                return
            if method == "POST" and not self._origin_ok():
                self._refuse("A form from another site was refused.")
                return
            self._route(method, url.path, {k: v[-1] for k, v in query.items()})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except TimeoutError:
            self.close_connection = True
        except Exception as exc:  # a plain page, never a traceback, nor a message that may name a folder
            self._page(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                pages.message_page("Unexpected problem", f"{type(exc).__name__}. Please report it."),
            )

    def _host_ok(self) -> bool:
        host = self.headers.get("Host")
        if not host:
            return False
        try:
            parts = urlsplit(f"//{host}")
            hostname, port = parts.hostname, parts.port
        except ValueError:
            return False
        if not hostname or port != self.server.port:
            return False
        if hostname == "localhost" or hostname in self.server.extra_hosts:
            return True
        try:
            ipaddress.ip_address(hostname)  # an address cannot be rebound; a name can
        except ValueError:
            return False
        return True

    def _cookie_ok(self) -> bool:
        """Whether the request carries this run's session cookie. The header is split by hand: other apps on
        127.0.0.1 set cookies too (with spaces, quotes, JSON), and one the standard parser refuses must not lock
        the user out."""
        want = self.server.session_key.encode()
        for header in self.headers.get_all("Cookie") or []:
            for pair in header.split(";"):
                name, eq, value = pair.strip().partition("=")
                if (
                    eq
                    and name.strip() == self.server.cookie_name
                    and secrets.compare_digest(value.strip().encode(), want)
                ):
                    return True
        return False

    def _origin_ok(self) -> bool:
        origin = self.headers.get("Origin")
        return origin is None or origin == f"http://{self.headers.get('Host')}"

    # ------------------------------------------------------------------------------------------ routes

    def _route(self, method: str, path: str, query: dict[str, str]) -> None:
        routes: dict[tuple[str, str], Callable[[dict[str, str]], None]] = {
            ("GET", "/"): self._upload_form,
            ("POST", "/validate"): self._validate,
            ("GET", "/progress"): self._progress,
            ("GET", "/status"): self._status,
            ("GET", "/result"): self._result,
            ("GET", "/report"): self._report,
            ("GET", "/rules"): self._rules,
            ("POST", "/clear"): self._clear,
        }
        if (method, path) in routes:
            routes[method, path](query)
        elif method == "GET" and path.startswith("/download/"):
            self._download(path.removeprefix("/download/"))
        elif method == "GET" and path.startswith("/rules/"):
            self._rule(path.removeprefix("/rules/"), query)
        elif method == "GET" and path.startswith("/static/"):
            self._static(path.removeprefix("/static/"))
        else:
            self._page(HTTPStatus.NOT_FOUND, pages.message_page("Not found", f"There is no page {path}."))

    def _upload_form(self, query: dict[str, str]) -> None:
        self._page(HTTPStatus.OK, pages.upload_page(self.server.session.job))

    def _validate(self, query: dict[str, str]) -> None:
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            self._page(HTTPStatus.LENGTH_REQUIRED, pages.upload_page(None, "The upload had no length: try again."))
            return
        length = int(length_text)
        if length > self.server.max_upload:
            self.close_connection = True
            limit = self.server.max_upload // (1024 * 1024)
            self._page(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                pages.upload_page(
                    self.server.session.job,
                    f"The files are too big together ({length / 1024 / 1024:,.0f} MB; the limit is {limit:,} MB). "
                    "Start the app with --max-upload-mb to allow more.",
                ),
            )
            self._discard(length)
            return
        body = self._read(length)
        try:
            parts = parse_multipart(body, self.headers.get("Content-Type", ""))
            self.server.session.start(parts)
        except MultipartError as exc:
            self._page(exc.status, pages.upload_page(self.server.session.job, f"The upload could not be read: {exc}"))
            return
        except FormError as exc:
            self._page(HTTPStatus.BAD_REQUEST, pages.upload_page(self.server.session.job, str(exc)))
            return
        self._redirect("/progress")

    def _discard(self, length: int, seconds: float = 10.0) -> None:
        """Read and drop a refused body (nothing is kept), so the browser gets the page rather than a reset
        connection; gives up after ``seconds``."""
        deadline = time.monotonic() + seconds
        left = length
        self.connection.settimeout(1.0)
        try:
            while left > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass  # the client gave up sending: nothing more to do

    def _read(self, length: int) -> bytes:
        chunks: list[bytes] = []
        left = length
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _progress(self, query: dict[str, str]) -> None:
        job = self.server.session.job
        if job is None:
            self._redirect("/")
        elif job.state != "running":
            self._redirect("/result")
        else:
            self._page(HTTPStatus.OK, pages.progress_page(job))

    def _status(self, query: dict[str, str]) -> None:
        job = self.server.session.job
        status = job.status() if job is not None else {"state": "none"}
        self._send(HTTPStatus.OK, json.dumps(status).encode(), "application/json")

    def _result(self, query: dict[str, str]) -> None:
        job = self.server.session.job
        if job is None:
            self._redirect("/")
        elif job.state == "running":
            self._redirect("/progress")
        else:
            self._page(HTTPStatus.OK, pages.result_page(job))

    def _report(self, query: dict[str, str]) -> None:
        job = self.server.session.job
        if job is None or job.report is None:
            self._page(HTTPStatus.NOT_FOUND, pages.message_page("No report", "Validate a return first."))
            return
        # The report allows only its own inline script and style, by hash: the header says the same.
        found = _REPORT_CSP.search(job.report)
        csp = html.unescape(found.group(1).decode()) if found else "default-src 'none'"
        self._send(
            HTTPStatus.OK,
            job.report,
            "text/html; charset=utf-8",
            csp=f"{csp}; frame-ancestors 'self'",
            frame="SAMEORIGIN",
        )

    def _download(self, key: str) -> None:
        job = self.server.session.job
        item = find_download(key)
        if item is None or job is None or job.result is None:
            self._page(HTTPStatus.NOT_FOUND, pages.message_page("Not found", "There is no such download."))
            return
        data = job.download(item)
        name = item.filename(job.result)
        self._send(
            HTTPStatus.OK, data, item.media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    def _rules(self, query: dict[str, str]) -> None:
        job = self.server.session.job
        chosen = job.result if job is not None else None
        return_type = query.get("return") or (chosen.return_type if chosen else "ssda903")
        if return_type not in SUPPORTED_YEARS:
            return_type = "ssda903"
        years = SUPPORTED_YEARS[return_type]
        year = query.get("year") or (chosen.year if chosen else "")
        if year not in years:
            last_complete = year_containing((self.server.today or dt.date.today()) - dt.timedelta(days=366))
            year = max((y for y in years if y <= last_complete), default=years[0])
        rules = sorted(rules_for(return_type, year), key=lambda r: _code_key(r.code))
        self._page(HTTPStatus.OK, pages.rules_page(return_type, year, query.get("q", ""), rules))

    def _rule(self, code: str, query: dict[str, str]) -> None:
        return_type = query.get("return")
        rules = find_rules(code, return_type if return_type in SUPPORTED_YEARS else None)
        self._page(HTTPStatus.OK if rules else HTTPStatus.NOT_FOUND, pages.rule_page(code, rules))

    def _clear(self, query: dict[str, str]) -> None:
        self.server.session.clear()
        self._redirect("/")

    def _static(self, name: str) -> None:
        if name not in STATIC_FILES:
            self._page(HTTPStatus.NOT_FOUND, pages.message_page("Not found", "No such file."))
            return
        path, content_type = STATIC_FILES[name]
        self._send(HTTPStatus.OK, path.read_bytes(), content_type)

    # ------------------------------------------------------------------------------------------ responses

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        csp: str = PAGE_CSP,
        frame: str = "DENY",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        # same-origin, not no-referrer: with no-referrer the browser sends "Origin: null" with the forms
        self.send_header("Referrer-Policy", "same-origin")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Content-Security-Policy", csp)
        self.send_header("X-Frame-Options", frame)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, status: int, text: str) -> None:
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8")

    def _refuse(self, message: str) -> None:
        self._page(HTTPStatus.FORBIDDEN, pages.message_page("Not allowed", message))

    def _redirect(self, location: str, cookie: bool = False) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        if cookie:
            self.send_header(
                "Set-Cookie",
                f"{self.server.cookie_name}={self.server.session_key}; Path=/; HttpOnly; SameSite=Strict",
            )
        self.end_headers()


def _code_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 10**9, code)


def run(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_remote: bool = False,
    open_browser: bool = True,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    say: Callable[[str], None] = print,
) -> int:
    """Serve until Ctrl+C (or SIGTERM), then delete the uploads. Raises RemoteBindError, OSError."""
    remove_stale_upload_folders()  # of an app that was killed
    server = WebServer(host, port, allow_remote=allow_remote, max_upload=max_upload)
    try:
        if threading.current_thread() is threading.main_thread():
            # Both set explicitly: a process started in the background by a shell inherits SIGINT ignored, and
            # Python then never turns Ctrl+C (or kill -INT) into KeyboardInterrupt, so the app would not stop.
            signal.signal(signal.SIGINT, _interrupt)
            signal.signal(signal.SIGTERM, _interrupt)
        say(f"The validator is running at {server.url}")
        say("Open that address in your browser (it works once: it holds a one-time code); press Ctrl+C here to stop.")
        say(f"Uploaded files are kept in {server.session.folder} until you clear the session or stop the app.")
        sys.stdout.flush()
        if open_browser:
            webbrowser.open(launch_file(server).as_uri())
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    say("Stopped; the uploaded files were deleted.")
    return 0


def launch_file(server: WebServer) -> Path:
    """A page in the session's private folder (0700; the page 0600) that sends the browser to the app's address:
    the browser is started with this file's name, so the code never appears on a command line."""
    path = server.session.folder / "open-app.html"
    target = html.escape(server.url, quote=True)
    page = (
        f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={target}">'
        f'<title>csc-validator</title><a href="{target}">Open the validator</a>'
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page)
    return path


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
