"""Hardening of the web process (issue 15, item 5): security headers and a CSP that the real pages run
under without one violation, no framing by a foreign page, allowed hosts and same-origin state changes
(DNS rebinding, forged Origin) while devices with a bearer token keep working, case photos never fetched
by the operator's browser from a host not allow-listed, and gunicorn instead of Werkzeug's dev server.

The fast tests drive ``dashboard.web.security`` and ``dashboard.web.media`` through Flask's test client;
the others run the real app (a subprocess), real HTTP requests with forged headers and a real Chromium.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import dash
import pytest
from dash import html
from flask import Flask
from selenium.webdriver.common.by import By

from dashboard.config import WebConfig
from dashboard.store import keys
from dashboard.store.records import CaseEvent, encode
from dashboard.store.server import free_port
from dashboard.web import media, security
from layouts.panels import case as panels
from tests.conftest import App, wait_for
from tests.support import chromium

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000002020100e5273de60000000049454e44ae426082"
)

# ------------------------------------------------------------------------------------------ helpers


class _Files(http.server.BaseHTTPRequestHandler):
    """A tiny web server of fixed answers: path -> (status, content type, body, extra headers)."""

    routes: ClassVar[dict[str, tuple[int, str, bytes, dict[str, str]]]] = {}

    def do_GET(self) -> None:
        status, ctype, body, extra = self.routes.get(self.path, (404, "text/plain", b"no", {}))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@contextlib.contextmanager
def file_server(routes: dict[str, tuple[int, str, bytes, dict[str, str]]]) -> Iterator[int]:
    """A local HTTP server on a free port answering ``routes``; yields its port."""
    handler = type("Files", (_Files,), {"routes": routes})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


def mini_app(web: WebConfig) -> Flask:
    """A Dash app with the guard installed and one state-changing route, as the web process has."""
    server = Flask("t")
    app = dash.Dash("t", server=server)  # type: ignore[arg-type]
    app.layout = html.Div("hi", id="x")
    security.install(app, web)
    server.add_url_rule("/healthz", "healthz", lambda: "ok")
    server.add_url_rule("/change", "change", lambda: "done", methods=["POST"])
    server.register_blueprint(media.blueprint(web))
    return server


# ------------------------------------------------------------------------------------------ fast


@pytest.mark.parametrize(
    ("netloc", "name"),
    [("LocalHost:8050", "localhost"), ("[::1]:80", "::1"), ("::1", "::1"), ("127.0.0.1", "127.0.0.1"),
     ("x:80; script-src *", ""), ("evil.example:abc", ""), ("a b", "")],
)  # fmt: skip
def test_host_name_of_a_host_header(netloc: str, name: str) -> None:
    assert security.host_name(netloc) == name


def test_allowed_hosts_default_to_loopback_and_the_configured_host() -> None:
    assert security.allowed_hosts(WebConfig()) == {"127.0.0.1", "localhost", "::1"}
    assert security.allowed_hosts(WebConfig(host="0.0.0.0")) == {"127.0.0.1", "localhost", "::1"}
    assert "10.1.2.3" in security.allowed_hosts(WebConfig(host="10.1.2.3"))
    assert security.allowed_hosts(WebConfig(allowed_hosts=["Wall.Example.GOV"])) == {"wall.example.gov"}


def test_the_csp_names_each_source_it_needs() -> None:
    csp = security.content_security_policy(WebConfig(), ["'sha256-abc'"], "127.0.0.1:8050")
    d = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert d["script-src"] == ["'self'", "'sha256-abc'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert (
        d["frame-ancestors"] == ["'none'"] and d["object-src"] == ["'none'"] and d["base-uri"] == ["'none'"]
    )
    assert d["connect-src"] == ["'self'", "ws://127.0.0.1:8050", "wss://127.0.0.1:8050"]
    assert d["img-src"] == ["'self'", "data:", "blob:"] and d["form-action"] == ["'self'"]
    tiles = WebConfig(
        tile_url="https://{s}.tiles.example/{z}/{x}/{y}.png", frame_ancestors=["https://p.example"]
    )
    csp = security.content_security_policy(tiles, [], "h")
    assert "img-src 'self' data: blob: https://*.tiles.example;" in csp
    assert "frame-ancestors https://p.example" in csp


def test_hosts_and_origins_are_checked_before_any_handler() -> None:
    c = mini_app(WebConfig()).test_client()
    ok = c.get("/", headers={"Host": "127.0.0.1:8050"})
    assert ok.status_code == 200
    for name in ("X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Content-Security-Policy"):
        assert name in ok.headers
    script_src = ok.headers["Content-Security-Policy"].split("script-src ")[1].split(";")[0]
    assert "'sha256-" in script_src and "unsafe-inline" not in script_src  # Dash's renderer start, hashed
    assert c.get("/", headers={"Host": "rebound.example:8050"}).status_code == 400
    assert c.get("/healthz", headers={"Host": "10.0.0.9:8050"}).status_code == 200  # probes by address
    h = {"Host": "127.0.0.1:8050"}
    assert c.post("/change", headers=h).status_code == 200  # a device: no Origin
    assert c.post("/change", headers={**h, "Origin": "http://127.0.0.1:8050"}).status_code == 200
    for forged in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "http://127.0.0.1:9999"},
                   {"Referer": "http://evil.example/page"}):  # fmt: skip
        resp = c.post("/change", headers={**h, **forged})
        assert resp.status_code == 403, forged
        assert resp.get_json()["errors"][0]["field"] == "origin"
    # a rebound name even when the Origin matches the Host: the host is not allowed
    evil = {"Host": "rebound.example:8050", "Origin": "http://rebound.example:8050"}
    assert c.post("/change", headers=evil).status_code == 400


def test_frame_ancestors_replace_x_frame_options() -> None:
    c = mini_app(WebConfig(frame_ancestors=["https://portal.example"])).test_client()
    resp = c.get("/", headers={"Host": "localhost"})
    assert "X-Frame-Options" not in resp.headers
    assert "frame-ancestors https://portal.example" in resp.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("url", "hosts", "ok"),
    [("http://img.example/a.jpg", ["img.example"], True),
     ("https://IMG.example:8443/a", ["img.example"], True),
     ("http://img.example:81/a.jpg", ["img.example:80"], False),
     ("http://img.example:80/a", ["img.example:80"], True),
     ("http://other.example/a.jpg", ["img.example"], False), ("ftp://img.example/a", ["img.example"], False),
     ("http://img.example.evil/a", ["img.example"], False), ("http://img.example/a", [], False)],
)  # fmt: skip
def test_only_allow_listed_hosts_are_proxied(url: str, hosts: list[str], ok: bool) -> None:
    assert media.proxied(url, hosts) is ok


def test_media_passes_on_images_of_allowed_hosts_only() -> None:
    big = b"\xff" * 5000
    with file_server({}) as other:
        routes = {
            "/p.png": (200, "image/png", PNG, {}),
            "/page.html": (200, "text/html", b"<script>alert(1)</script>", {}),
            "/x.svg": (200, "image/svg+xml", b"<svg/>", {}),
            "/big.jpg": (200, "image/jpeg", big, {}),
            "/moved": (302, "text/plain", b"", {"Location": "/p.png"}),
            "/away": (302, "text/plain", b"", {"Location": f"http://127.0.0.1:{other}/p.png"}),
        }
        with file_server(routes) as port:
            web = WebConfig(media_hosts=[f"127.0.0.1:{port}"], media_max_bytes=1000)
            c = mini_app(web).test_client()

            def get(path: str, port: int = port) -> Any:
                return c.get(media.media_src(f"http://127.0.0.1:{port}{path}"), headers={"Host": "localhost"})

            ok = get("/p.png")
            assert ok.status_code == 200 and ok.data == PNG and ok.mimetype == "image/png"
            assert get("/moved").data == PNG  # a redirect on the same host is followed
            assert get("/away").status_code == 502  # not to another host
            assert get("/page.html").status_code == 502 and get("/x.svg").status_code == 502
            assert get("/big.jpg").status_code == 502
            assert get("/p.png", other).status_code == 403  # not allow-listed
            assert (
                c.get("/media?url=http://example.org/a.jpg", headers={"Host": "localhost"}).status_code == 403
            )


def test_photos_are_links_unless_their_host_is_allow_listed() -> None:
    st: Any = SimpleNamespace(
        photos=["https://example.org/p1.jpg", "http://img.example/p2.jpg", "javascript:x"]
    )
    box = html.Div(panels.photos(st, "en", media_hosts=["img.example"]))
    found = json.loads(json.dumps(box.to_plotly_json(), cls=_Plotly))
    imgs = [n["props"]["src"] for n in _walk(found) if n.get("type") == "Img"]
    assert imgs == [media.media_src("http://img.example/p2.jpg")]
    links = [n["props"] for n in _walk(found) if n.get("type") == "A"]
    assert links[0]["href"] == "https://example.org/p1.jpg" and links[0]["rel"] == "noopener noreferrer"
    assert links[0]["target"] == "_blank"


class _Plotly(json.JSONEncoder):
    """Dash components as their JSON."""

    def default(self, o: Any) -> Any:
        return o.to_plotly_json()


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every component in a component tree's JSON."""
    if isinstance(node, list):
        for n in node:
            yield from _walk(n)
    elif isinstance(node, dict) and "props" in node:
        yield node
        yield from _walk(node["props"].get("children"))


# ------------------------------------------------------------------------------------------ the real app

TOKEN = secrets.token_urlsafe(16)
CASE = "SEC-CASE-1"


@pytest.fixture(scope="module")
def photo_port() -> Iterator[int]:
    """A local 'media host' that the config allow-lists."""
    with file_server({"/p.png": (200, "image/png", PNG, {})}) as port:
        yield port


@pytest.fixture(scope="module")
def app(photo_port: int) -> Iterator[App]:
    """The whole system without the simulator; one device token; the local media host allow-listed."""
    d = Path(tempfile.mkdtemp(prefix="cbs-"))
    os.environ["CB_SEC_TOKEN"] = TOKEN
    cfg = d / "config.yaml"
    cfg.write_text(
        f'ingest:\n  tokens:\n    test: "${{CB_SEC_TOKEN}}"\n'
        f'web:\n  media_hosts: ["127.0.0.1:{photo_port}"]\n'
    )
    a = App(d, "--no-simulator", "--config", str(cfg)).start()
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.stop()
    shutil.rmtree(d, ignore_errors=True)


def raw(app: App, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any, str]:
    """A hand-crafted request (forged Host and Origin allowed); (status, headers, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Host": f"127.0.0.1:{app.port}", **headers}
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    text = resp.read().decode(errors="replace")
    conn.close()
    return resp.status, resp.headers, text


def test_every_response_has_the_headers_and_no_werkzeug(app: App) -> None:
    for path in ("/", "/wall", "/alerts", "/healthz", "/api/v1/snapshot", "/no/such/page"):
        status, h, _ = raw(app, "GET", path, {})
        assert status in (200, 404), path
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], path
        assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff", path
        assert h["Referrer-Policy"] == "same-origin", path
        assert "werkzeug" not in (h.get("Server") or "").lower(), h.get("Server")


def test_rebinding_and_forged_origins_are_refused_devices_are_not(app: App) -> None:
    me = f"http://127.0.0.1:{app.port}"
    ack = {"actor": "attacker"}
    # DNS rebinding: a foreign name pointing at this server
    status, _, body = raw(app, "GET", "/api/v1/snapshot", {"Host": f"rebound.example:{app.port}"})
    assert status == 400 and "host not allowed" in body
    rebound = {"Host": f"rebound.example:{app.port}", "Origin": f"http://rebound.example:{app.port}"}
    status, _, _ = raw(app, "POST", "/ui/alerts/x:y/ack", rebound, ack)
    assert status == 400
    # a foreign page posting to the screens' endpoint and to Dash's callbacks
    assert raw(app, "POST", "/ui/alerts/x:y/ack", {"Origin": "http://evil.example"}, ack)[0] == 403
    assert raw(app, "POST", "/_dash-update-component", {"Origin": "http://evil.example"}, {})[0] == 403
    # the same origin passes the guard (the alert does not exist: 404 from the engine's answer, not 403)
    status, _, _ = raw(app, "POST", "/ui/alerts/x:y/ack", {"Origin": me}, ack)
    assert status not in (400, 403)
    # a device with its bearer token, no Origin
    now = int(time.time() * 1000)
    event = {"event_id": "SEC-1-r", "case_id": "SEC-1", "time": now, "step": "reported",
             "event_type": "CM-0101", "cell_id": "ZM-0001"}  # fmt: skip
    status, _, body = raw(app, "POST", "/api/v1/case-events", {"Authorization": f"Bearer {TOKEN}"}, event)
    assert status == 202, body
    # Socket.IO (its middleware answers before Flask's hooks): a rebound page's polling, a foreign origin
    poll = "/socket.io/?EIO=4&transport=polling"
    assert raw(app, "GET", poll, {"Host": f"rebound.example:{app.port}"})[0] == 400
    assert raw(app, "GET", poll, {"Origin": "http://evil.example"})[0] == 403
    status, _, body = raw(app, "GET", poll, {"Origin": me})
    assert status == 200 and body.startswith("0{"), body
    # /healthz answers a probe by address
    assert raw(app, "GET", "/healthz", {"Host": f"10.9.8.7:{app.port}"})[0] == 200


def test_media_refuses_hosts_not_allow_listed(app: App, photo_port: int) -> None:
    assert raw(app, "GET", media.media_src("http://example.org/a.jpg"), {})[0] == 403
    status, h, _ = raw(app, "GET", media.media_src(f"http://127.0.0.1:{photo_port}/p.png"), {})
    assert status == 200 and h["Content-Type"] == "image/png"


CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
});
"""


LIVE = "#connection-status.conn-ok"  # the page's socket is connected (docs/UI.md)


def violations(browser: Any) -> list[str]:
    """The CSP violations the page reported since it loaded."""
    found: list[str] = browser.execute_script("return window.__csp || ['no watcher']")
    return found


def test_the_pages_work_under_the_csp_without_one_violation(app: App, photo_port: int) -> None:
    now = int(time.time() * 1000)
    photos = ["https://example.org/p1.jpg", f"http://127.0.0.1:{photo_port}/p.png"]
    ev = CaseEvent(event_id=f"{CASE}-0", case_id=CASE, seq=0, ts=now - 60_000, step="reported",
                   event_type="CM-0101", category="city_management", cell_id="ZM-0001", source="test",
                   photos=photos)  # fmt: skip
    r = app.client()
    r.xadd(keys.STREAM_CASE_EVENTS, encode(ev))  # type: ignore[arg-type]
    wait_for(lambda: r.hexists(keys.CASE_INDEX, CASE), 20, what="the case processed")
    pages = {
        "/": "path.cell",
        "/wall": "path.cell",
        "/subdistrict/ZM": ".leaflet-overlay-pane path",
        f"/case/{CASE}": "#case-timeline tbody tr",
        "/alerts": "#alerts-table *",  # filled by a server-side callback: a same-origin POST
    }
    with chromium() as browser:
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_WATCH})
        for path, ready in pages.items():
            browser.get(app.url + path)
            wait_for(lambda r=ready: browser.find_elements(By.CSS_SELECTOR, r), 30, what=f"{path}: {ready}")
            live = browser.find_elements(By.ID, "connection-status")
            wait_for(lambda live=live: not live or browser.find_elements(By.CSS_SELECTOR, LIVE), 20,
                     what=f"{path}: live over Socket.IO")  # fmt: skip
            if path == "/":
                wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg"), 20,
                         what="plotly figures drawn")  # fmt: skip
            if path.startswith("/case/"):
                imgs = browser.find_elements(By.CSS_SELECTOR, "#case-photos img")
                assert [i.get_attribute("src") for i in imgs] == [app.url + media.media_src(photos[1])]
                wait_for(lambda i=imgs[0]: browser.execute_script("return arguments[0].naturalWidth", i) == 1,
                         10, what="the proxied thumbnail loaded")  # fmt: skip
                hrefs = [
                    a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#case-photos a")
                ]
                assert photos[0] in hrefs
            time.sleep(1.0)  # let late scripts (figures, sockets, timers) run
            assert violations(browser) == [], path
        # the watcher sees a violation: an injected inline script is refused
        browser.execute_script(
            "var s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
            "document.body.appendChild(s);"
        )
        wait_for(lambda: any(v.startswith("script-src") for v in violations(browser)), 5, what="a violation")
        assert browser.execute_script("return window.__ran") is None


def test_a_foreign_page_cannot_frame_the_wall(app: App) -> None:
    page = f'<html><body><iframe id="f" src="{app.url}/wall" width="800" height="600"></iframe></body></html>'
    with file_server({"/frame.html": (200, "text/html", page.encode(), {})}) as port, chromium() as browser:
        browser.get(f"http://localhost:{port}/frame.html")
        frame = browser.find_element(By.ID, "f")
        time.sleep(2.0)
        browser.switch_to.frame(frame)
        where = browser.execute_script("return location.href")
        assert where.startswith("chrome-error://"), where  # Chromium's "refused to connect" page
        assert not browser.find_elements(By.ID, "_dash-app-content")


def test_the_web_server_is_gunicorn_with_a_thread_per_allowed_socket() -> None:
    from dashboard.config import parse_config
    from dashboard.web.app import WebServer

    server = WebServer(parse_config({"web": {"max_connections": 300}}), "redis://unused", "::", 8050)
    assert server.cfg.worker_class_str == "gthread" and server.cfg.workers == 1
    assert server.cfg.threads == 300 + WebServer.SPARE_THREADS and server.cfg.bind == ["[::]:8050"]
    assert WebServer(parse_config({"web": {"threads": 8}}), "redis://unused", "h", 1).cfg.threads == 8
