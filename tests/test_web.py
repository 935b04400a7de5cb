"""The local web app (`python -m validator serve`): who may use it, how uploads are read and kept, and what it
serves. Driven over HTTP with the standard library; the browser tests are in test_web_browser.py."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, SAMPLES, serving

from validator.cli import main
from validator.web.multipart import MultipartError, Part, parse_multipart, safe_filename
from validator.web.server import PAGE_CSP, RemoteBindError, WebServer, is_loopback
from validator.web.session import FormError, Session, _save

CIN_XML = SAMPLES / "cin" / "cin_2024_25.xml"
BOUNDARY = "----formBoundary7MA4YWxkTrZu0gW"


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]], boundary: str = BOUNDARY) -> bytes:
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        body += head.encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


# ---------------------------------------------------------------------------------------------- multipart


def test_multipart_reads_fields_and_files_byte_for_byte() -> None:
    binary = bytes(range(256)) + b"\r\n--" + BOUNDARY[:-1].encode() + b"\r\n\n\r"  # near-boundaries inside
    body = multipart(
        {"la": "E09000027", "year": ""}, [("current", "a.csv", b"x,y\r\n1,2\r\n"), ("current", "b", binary)]
    )
    parts = parse_multipart(body, CONTENT_TYPE)
    assert [(p.name, p.filename) for p in parts] == [
        ("la", None),
        ("year", None),
        ("current", "a.csv"),
        ("current", "b"),
    ]
    assert parts[0].text == "E09000027" and parts[1].data == b""
    assert parts[2].data == b"x,y\r\n1,2\r\n"
    assert parts[3].data == binary


def test_multipart_reads_a_utf8_file_name() -> None:
    body = multipart({}, [("current", "Épisodes été.csv", b"data")])
    (part,) = parse_multipart(body, CONTENT_TYPE)
    assert part.filename == "Épisodes été.csv"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"anything", "application/json", 415, "multipart/form-data"),
        (b"anything", "multipart/form-data", 400, "boundary"),
        (b"no boundary at all", CONTENT_TYPE, 400, "opening boundary"),
        (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n\r\ncut".encode(), CONTENT_TYPE, 400, "cut short"),
        (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{BOUNDARY}--".encode(),
            CONTENT_TYPE,
            400,
            "name",
        ),
        (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a".encode() + b"x" * 20_000,
            CONTENT_TYPE,
            400,
            "headers",
        ),
        (
            f"--{BOUNDARY}\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--{BOUNDARY}--".encode(),
            CONTENT_TYPE,
            400,
            "form-data",
        ),
        (f"--{BOUNDARY}garbage".encode(), CONTENT_TYPE, 400, "line break"),
    ],
)
def test_multipart_refuses_malformed_bodies(body: bytes, content_type: str, status: int, words: str) -> None:
    with pytest.raises(MultipartError, match=words) as caught:
        parse_multipart(body, content_type)
    assert caught.value.status == status


def test_multipart_limits_parts_and_field_length() -> None:
    many = multipart({f"f{i}": "x" for i in range(11)}, [])
    assert len(parse_multipart(many, CONTENT_TYPE, max_parts=11)) == 11
    with pytest.raises(MultipartError, match="too many") as caught:
        parse_multipart(many, CONTENT_TYPE, max_parts=10)
    assert caught.value.status == 413
    long_field = multipart({"la": "x" * 101}, [("current", "a.csv", b"y" * 1000)])
    with pytest.raises(MultipartError, match="'la' is too long"):
        parse_multipart(long_field, CONTENT_TYPE, max_field_bytes=100)
    assert len(parse_multipart(long_field, CONTENT_TYPE, max_field_bytes=101)) == 2  # files are not fields


@pytest.mark.parametrize(
    ("sent", "saved"),
    [
        ("episodes.csv", "episodes.csv"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("C:\\Users\\me\\Desktop\\header.csv", "header.csv"),
        ("/", "upload"),
        ("..", "upload"),
        ("", "upload"),
        (".bashrc", "bashrc"),
        ("CON.csv", "upload-CON.csv"),
        ("nul", "upload-nul"),
        ("a\x00b<>:|?*.csv", "a_b_.csv"),
        ("Épisodes été.csv", "Épisodes été.csv"),
        ("x" * 300 + ".csv", "x" * 116 + ".csv"),  # 120 characters, the extension kept
    ],
)
def test_safe_filename(sent: str, saved: str) -> None:
    assert safe_filename(sent) == saved


def test_uploads_are_saved_inside_their_folder_under_unique_names(tmp_path: Path) -> None:
    parts = [
        Part("current", "../../escape.csv", "text/csv", b"1"),
        Part("current", "sub/escape.csv", "text/csv", b"2"),
        Part("current", "ESCAPE.csv", "text/csv", b"3"),
    ]
    written = _save(parts, tmp_path / "current")
    assert [p.name for p in written] == ["escape.csv", "escape-2.csv", "ESCAPE-3.csv"]
    assert [p.read_bytes() for p in written] == [b"1", b"2", b"3"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["ESCAPE-3.csv", "current", "escape-2.csv", "escape.csv"]


def test_a_form_needs_this_years_files_and_a_proper_la_code() -> None:
    session = Session()
    try:
        with pytest.raises(FormError, match="this year's files"):
            session.start([Part("la", None, "text/plain", b"E09000027")])
        with pytest.raises(FormError, match="is not an LA: choose it from the list"):
            session.start([Part("la", None, "text/plain", b"../x"), Part("current", "a.csv", "", b"x")])
        with pytest.raises(FormError, match="not a collection year"):
            session.start([Part("year", None, "text/plain", b"2024"), Part("current", "a.csv", "", b"x")])
        with pytest.raises(FormError, match="last year's"):
            session.start([Part("current", "a.csv", "", b"x"), Part("previous2", "b.csv", "", b"x")])
    finally:
        session.close()


# ---------------------------------------------------------------------------------------------- binding


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_the_server_refuses_anything_but_loopback(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(RemoteBindError, match="--allow-remote"):
        WebServer(host, 0)


def test_the_server_binds_to_loopback_by_default() -> None:
    for host in ("127.0.0.1", "localhost"):
        server = WebServer(host, 0)
        try:
            assert server.server_address[0] == "127.0.0.1"
            assert server.url.startswith(f"http://127.0.0.1:{server.port}/?code=")
        finally:
            server.close()


def test_allow_remote_lets_another_address_be_bound() -> None:
    server = WebServer("0.0.0.0", 0, allow_remote=True)
    try:
        assert server.server_address[0] == "0.0.0.0"
    finally:
        server.close()


def test_the_command_refuses_a_remote_host_without_allow_remote(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "cannot serve" in err and "--allow-remote" in err


# ---------------------------------------------------------------------------------------------- over HTTP


class Client:
    """Requests to a running app, with or without its cookie, and any Host or Origin header."""

    def __init__(self, server: WebServer) -> None:
        self.server = server
        self.cookie = f"{server.cookie_name}={server.session_key}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        cookie: str | None = "",
        host: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        sent = {"Host": host or f"127.0.0.1:{self.server.port}", **(headers or {})}
        if cookie == "":
            cookie = self.cookie
        if cookie is not None:
            sent["Cookie"] = cookie
        conn.putrequest(method, path, skip_host=True)
        for key, value in sent.items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def upload(self, fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[int, dict[str, str], bytes]:
        return self.request("POST", "/validate", multipart(fields, files), headers={"Content-Type": CONTENT_TYPE})

    def wait(self) -> dict[str, object]:
        for _ in range(600):
            status = json.loads(self.request("GET", "/status")[2])
            if status["state"] != "running":
                return status
            time.sleep(0.2)
        raise AssertionError("the validation did not finish")


@pytest.fixture
def app() -> Iterator[WebServer]:
    with serving(WebServer("127.0.0.1", 0, max_upload=2_000_000)) as server:
        yield server


def test_every_request_needs_the_key(app: WebServer) -> None:
    client = Client(app)
    for path in ("/", "/rules", "/static/app.css", "/status", "/result", "/download/xlsx", "/nowhere"):
        status, _, body = client.request("GET", path, cookie=None)
        assert status == 403, path
        assert b"key" in body
    assert client.request("GET", "/", cookie=f"{app.cookie_name}=wrong")[0] == 403
    assert client.request("GET", "/", cookie=f"cscvalidate_1={app.session_key}")[0] == 403  # another app's name
    assert client.request("GET", "/?code=wrong", cookie=None)[0] == 403
    status, _, _ = client.request("POST", "/clear", b"", cookie=None)
    assert status == 403


def test_the_key_in_the_address_sets_a_strict_cookie_and_leaves_the_address(app: WebServer) -> None:
    client = Client(app)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(app.url).query)["code"][0]
    status, headers, _ = client.request("GET", f"/rules?year=2024_25&code={code}", cookie=None)
    assert status == 303
    assert headers["location"] == "/rules?year=2024_25"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"{app.cookie_name}={app.session_key};") and code not in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, headers, body = client.request("GET", "/")
    assert status == 200 and b"Validate a return" in body
    assert headers["content-security-policy"] == PAGE_CSP
    assert "default-src 'self'" in PAGE_CSP and "frame-ancestors 'none'" in PAGE_CSP
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize("host", ["evil.example", "rebind.attacker.test", "127.0.0.1:1", "localhost.evil.test", ""])
def test_a_foreign_host_header_is_refused(app: WebServer, host: str) -> None:
    shown = host if ":" in host or not host else f"{host}:{app.port}"
    status, _, _ = Client(app).request("GET", "/", host=shown or " ")
    assert status == 403


def test_loopback_names_are_accepted(app: WebServer) -> None:
    for host in (f"localhost:{app.port}", f"127.0.0.1:{app.port}"):
        assert Client(app).request("GET", "/", host=host)[0] == 200


def test_a_form_from_another_origin_is_refused(app: WebServer) -> None:
    client = Client(app)
    status, _, _ = client.request("POST", "/clear", b"", headers={"Origin": "http://evil.example"})
    assert status == 403
    status, _, _ = client.request("POST", "/clear", b"", headers={"Origin": "null"})
    assert status == 403
    status, headers, _ = client.request("POST", "/clear", b"", headers={"Origin": f"http://127.0.0.1:{app.port}"})
    assert status == 303 and headers["location"] == "/"


def test_static_files_are_a_fixed_list(app: WebServer) -> None:
    client = Client(app)
    status, headers, body = client.request("GET", "/static/app.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript") and b"pollProgress" in body
    for path in ("/static/../server.py", "/static/%2e%2e/server.py", "/static/", "/static/app.css/../../x"):
        assert client.request("GET", path)[0] == 404, path


def test_a_too_big_upload_is_refused_before_it_is_read(app: WebServer) -> None:
    status, _, body = Client(app).upload({}, [("current", "big.csv", b"x" * 2_100_000)])
    assert status == 413
    assert b"too big" in body and b"--max-upload-mb" in body
    assert app.session.job is None


def test_a_malformed_upload_gets_a_clear_message(app: WebServer) -> None:
    client = Client(app)
    status, _, body = client.request("POST", "/validate", b"--x\r\nnonsense", headers={"Content-Type": CONTENT_TYPE})
    assert status == 400 and b"could not be read" in body
    status, _, body = client.upload({"la": "E09000027"}, [])
    assert status == 400 and b"this year&#x27;s files" in body


def test_a_run_from_upload_to_downloads_and_the_folder_is_gone_after_shutdown() -> None:
    server = WebServer("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = Client(server)
    try:
        status, headers, _ = client.upload(
            {"la": "E09000027", "year": ""}, [("current", "../cin.xml", CIN_XML.read_bytes())]
        )
        assert status == 303 and headers["location"] == "/progress"
        assert client.wait()["state"] == "done"
        folder = server.session.folder
        assert (folder / "run-1" / "current" / "cin.xml").read_bytes() == CIN_XML.read_bytes()

        status, _, page = client.request("GET", "/result")
        assert status == 200
        text = page.decode()
        assert "CIN census (children in need) 2024_25, LA E09000027" in text  # the year from the file
        downloads = ["xlsx", "csv", "html", "json", "preview", "measures", "dfe"]
        assert re.findall(r'data-download="(\w+)"', text) == downloads
        status, headers, report = client.request("GET", "/report")
        assert status == 200 and b'id="report-data"' in report
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "frame-ancestors 'self'" in csp
        status, headers, data = client.request("GET", "/download/json")
        assert status == 200
        assert headers["content-disposition"] == 'attachment; filename="cin_2024_25_E09000027-validation.json"'
        assert json.loads(data)["return"] == "cin"
        # the files as uploaded, never the temporary paths they were saved to
        assert [i["path"] for i in json.loads(data)["inputs"]] == ["cin.xml"]
        assert str(folder) not in data.decode() and str(folder) not in report.decode()
        assert client.request("GET", "/download/nothing")[0] == 404
        status, headers, data = client.request("GET", "/download/measures")
        assert status == 200 and headers["content-disposition"].endswith('cin_2024_25_E09000027-measures.csv"')
        assert data.decode().startswith("measure,value,numerator,denominator") and b"referrals" in data
        status, headers, data = client.request("GET", "/download/preview")
        assert status == 200 and data[:2] == b"PK"  # a workbook (zip)
        status, headers, data = client.request("GET", "/download/dfe")
        assert status == 200 and headers["content-disposition"].endswith('cin_2024_25_E09000027-dfe.zip"')
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert {"xml/cin.xml", "csv/cin_childidentifiers.csv", "changes.csv"} <= set(archive.namelist())
            assert str(folder) not in archive.read("changes.csv").decode()

        status, _, page = client.request("GET", "/rules?q=8675Q")
        assert status == 200 and b"1 of " in page and b"code: 8675Q" in page  # this run's return and year
        status, _, page = client.request("GET", "/rules/8675q")
        assert status == 200 and b"c86xx_assessments_s47.yaml" in page
        assert client.request("GET", "/rules/NOPE")[0] == 404
    finally:
        server.shutdown()
        server.close()
    assert not folder.exists()


def test_clear_session_deletes_the_uploads(app: WebServer) -> None:
    client = Client(app)
    client.upload({}, [("current", "cin.xml", CIN_XML.read_bytes())])
    client.wait()
    folder = app.session.folder
    assert any(folder.rglob("cin.xml"))
    status, _, _ = client.request("POST", "/clear", b"")
    assert status == 303
    assert not folder.exists()
    assert app.session.job is None
    assert client.request("GET", "/result")[1]["location"] == "/"


def test_a_failed_run_shows_why(app: WebServer) -> None:
    client = Client(app)
    client.upload({"return_type": "cin", "year": "2026_27"}, [("current", "cin.xml", CIN_XML.read_bytes())])
    assert client.wait()["state"] == "failed"
    status, _, page = client.request("GET", "/result")
    assert status == 200 and b"did not finish" in page and b"not supported" in page


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_the_command_serves_until_interrupted_then_deletes_the_uploads() -> None:
    # Started with SIGINT ignored, as a shell's background job is (and as this test ran when it hung): the app
    # must still stop on Ctrl+C.
    proc = subprocess.Popen(
        [sys.executable, "-m", "validator", "serve", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        url = re.search(r"http://\S+", lines[0])
        folder = re.search(r"kept in (.+) until", lines[2])
        assert url and folder, lines
        parsed = urllib.parse.urlsplit(url.group(0))
        assert parsed.hostname == "127.0.0.1"
        server = WebServer.__new__(WebServer)  # only for Client's port, cookie name and key
        server.port = parsed.port  # type: ignore[misc]
        code = urllib.parse.parse_qs(parsed.query)["code"][0]
        server.cookie_name, server.session_key = "none", "none"
        client = Client(server)
        assert client.request("GET", "/", cookie=None)[0] == 403
        status, headers, _ = client.request("GET", f"/?code={code}", cookie=None)  # the one-time code, exchanged
        assert status == 303
        client.cookie = headers["set-cookie"].split(";")[0]
        client.upload({}, [("current", "cin.xml", CIN_XML.read_bytes())])
        client.wait()
        assert any(Path(folder.group(1)).rglob("cin.xml"))
        proc.send_signal(signal.SIGINT)
        # Bounded by the event (the process ends), with a limit only a hung server reaches, however busy the
        # machine is.
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "deleted" in out
    assert not Path(folder.group(1)).exists()


def test_the_wheel_carries_the_apps_static_files(tmp_path: Path) -> None:
    builder_module = pytest.importorskip("hatchling.builders.wheel")
    import zipfile

    (wheel,) = list(builder_module.WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"validator/web/static/app.css", "validator/web/static/app.js", "validator/web/server.py"} <= names


def test_a_failed_run_keeps_the_files_for_another_try_with_la_by_name_and_a_rule_subset(app: WebServer) -> None:
    client = Client(app)
    client.upload({"return_type": "cin", "year": "2026_27"}, [("current", "cin.xml", CIN_XML.read_bytes())])
    assert client.wait()["state"] == "failed"
    page = client.request("GET", "/result")[2].decode()
    assert "Try again with the same files" in page and "cin.xml" in page and 'name="reuse"' in page
    assert 'list="la-list"' in page and "Richmond upon Thames (E09000027)" in page
    fields = {"reuse": "1", "la": "Richmond upon Thames (E09000027)", "rules": "8675Q, 8520"}
    status, headers, _ = client.upload(fields, [])
    assert status == 303, headers
    assert client.wait()["state"] == "done"
    job = app.session.job
    assert job is not None and job.result is not None
    assert job.result.context.la == "E09000027" and sorted(r.code for r in job.result.rules) == ["8520", "8675Q"]
    page = client.request("GET", "/result")[2].decode()
    assert "E09000027 (Richmond upon Thames)" in page and "checked 2 of 2 rules" in page
    # a code that no rule has: the run fails, naming it, and the files are still kept
    client.upload({"reuse": "1", "rules": "9999"}, [])
    assert client.wait()["state"] == "failed"
    page = client.request("GET", "/result")[2].decode()
    assert "9999" in page and "Try again with the same files" in page


def test_the_reasons_say_what_to_do_in_the_pages_words() -> None:
    import validator
    from validator.result import completeness
    from validator.web.session import _in_page_words

    samples = SAMPLES / "ssda903" / "2024_25"
    result = validator.validate([samples], year="2024_25", la="E09000027")
    _in_page_words(result)
    reasons = " ".join(r.reason for r in result.rules_not_run)
    assert "add last year's files" in reasons and "choose the Ofsted provider lists" in reasons
    assert "--previous" not in reasons and "--providers" not in reasons
    line = completeness(result, "web")
    assert "need last year's return: add last year's files" in line and "--" not in line


# ---------------------------------------------------------------------------------------------- issue 14


def _code(server: WebServer) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(server.url).query)["code"][0]


def test_the_browser_is_opened_without_the_code_on_any_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """webbrowser starts a browser process with its argument on the command line (/proc/*/cmdline, ps): it gets
    the name of a private page that redirects, never the address with the code."""
    import stat as stat_module
    import webbrowser

    from validator.web import server as server_module

    opened: list[str] = []
    said: list[str] = []

    def fake_open(url: str) -> bool:
        opened.append(url)
        path = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
        code = re.search(r"code=([\w-]+)", said[0])
        assert code and code.group(1) not in url
        assert code.group(1) in path.read_text(encoding="utf-8")  # the page sends the browser on
        assert stat_module.S_IMODE(path.stat().st_mode) == 0o600
        raise KeyboardInterrupt  # stops the app, as Ctrl+C would

    monkeypatch.setattr(webbrowser, "open", fake_open)
    assert server_module.run(open_browser=True, say=said.append) == 0
    assert len(opened) == 1 and opened[0].startswith("file://")


def test_the_code_works_once_and_the_cookie_is_neither_the_code_nor_named_after_the_port(app: WebServer) -> None:
    client = Client(app)
    code = _code(app)
    status, headers, _ = client.request("GET", f"/?code={code}", cookie=None)
    assert status == 303
    name, value = headers["set-cookie"].split(";")[0].split("=", 1)
    assert name == app.cookie_name and str(app.port) not in name and value != code
    assert client.request("GET", "/", cookie=f"{name}={value}")[0] == 200
    assert client.request("GET", f"/?code={code}", cookie=None)[0] == 403  # used: void
    other = WebServer("127.0.0.1", 0)
    try:
        assert other.cookie_name != app.cookie_name and other.session_key != app.session_key
    finally:
        other.close()


def test_other_apps_cookies_on_127_0_0_1_do_not_lock_the_user_out(app: WebServer) -> None:
    client = Client(app)
    jar = f'theme=dark mode; prefs={{"a": [1, 2]}}; bad"quote=1; {client.cookie}; x=y z'
    assert client.request("GET", "/", cookie=jar)[0] == 200


def test_idle_connections_time_out_and_cannot_lock_the_user_out(app: WebServer) -> None:
    import socket

    app.idle_timeout = 1.0
    app.max_connections = 4
    idle = [socket.create_connection(("127.0.0.1", app.port)) for _ in range(20)]
    try:
        assert Client(app).request("GET", "/")[0] == 200  # at the cap, idle connections give way
        assert app.connections <= 4
        idle[-1].settimeout(60)
        assert idle[-1].recv(1) == b""  # closed by the server (timed out or dropped), not held for ever
    finally:
        for sock in idle:
            sock.close()


def test_an_upload_name_over_255_bytes_is_saved_shortened(app: WebServer) -> None:
    client = Client(app)
    name = "日" * 110 + ".xml"  # 114 characters, 334 bytes
    status, _, page = client.upload({}, [("current", name, CIN_XML.read_bytes())])
    assert status == 303, page[:500]
    assert client.wait()["state"] == "done"
    (saved,) = app.session.folder.rglob("*.xml")
    assert len(saved.name.encode()) <= 200 and saved.name.endswith(".xml")
    assert str(app.session.folder).encode() not in page


def test_clear_session_stops_a_running_validation(app: WebServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from validator.web import session as session_module

    started, stopped = threading.Event(), threading.Event()

    def slow_validate(*args: Any, progress: Any, **kwargs: Any) -> Any:
        started.set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                progress("rules", 1, 1000)
            except session_module.Cancelled:
                stopped.set()
                raise
            time.sleep(0.05)
        raise AssertionError("the validation was not stopped")

    monkeypatch.setattr(session_module, "validate", slow_validate)
    client = Client(app)
    client.upload({}, [("current", "cin.xml", CIN_XML.read_bytes())])
    assert started.wait(60)
    folder = app.session.folder
    assert client.request("POST", "/clear", b"")[0] == 303
    assert stopped.wait(60)
    assert app.session.job is None and not folder.exists()


def test_uploads_left_by_a_killed_app_are_removed_at_the_next_start(tmp_path: Path) -> None:
    import tempfile

    from validator.web.session import remove_stale_upload_folders

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    root = Path(tempfile.gettempdir())
    stale = root / f"cscvalidate-{int(gone.stdout)}-test"
    alive = root / f"cscvalidate-{os.getpid()}-test"
    for folder in (stale, alive):
        (folder / "run-1" / "current").mkdir(parents=True, exist_ok=True)
        (folder / "run-1" / "current" / "header.csv").write_text("CHILD\n1\n")
    try:
        remove_stale_upload_folders()
        assert not stale.exists() and alive.exists()
    finally:
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(alive, ignore_errors=True)


def test_the_sessions_temporary_folder_has_a_size_limit(tmp_path: Path) -> None:
    session = Session(max_total=len(CIN_XML.read_bytes()) + 100)
    try:
        (session.folder / "left-over.bin").write_bytes(b"x" * 200)  # e.g. what a failed deletion left
        with pytest.raises(FormError, match="too big to keep"):
            session.start([Part("current", "cin.xml", "text/xml", CIN_XML.read_bytes())])
        (session.folder / "left-over.bin").unlink()
        job = session.start([Part("current", "cin.xml", "text/xml", CIN_XML.read_bytes())])
        assert job.ended.wait(120)
    finally:
        session.close()


def test_the_dfe_ready_download_of_a_workbook_logs_its_changes_under_the_uploaded_name(app: WebServer) -> None:
    client = Client(app)
    book = SAMPLES / "ssda903" / "workbooks" / "ssda903_2024_25.xlsx"
    client.upload({"la": "E09000027", "year": "2024_25"}, [("current", "return.xlsx", book.read_bytes())])
    assert client.wait()["state"] == "done"
    status, _, data = client.request("GET", "/download/dfe")
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "csv/episodes.csv" in archive.namelist() and "xml/ssda903.xml" in archive.namelist()
        log = archive.read("changes.csv").decode()
    assert "return.xlsx,episodes,Episodes," in log and "'no data' token: read as blank" in log
    assert "date cell: written as text dd/mm/yyyy" in log  # the web run keeps the whole change log
    assert str(app.session.folder) not in log
