"""A small headless-Chromium driver over the DevTools protocol (websocket-client only), for tests/test_site.py.

Chromium runs with a fresh profile and the flags the issue asks for; its own net log records every request the
browser makes, and the DevTools session records what each page logs, throws and fetches.
"""

from __future__ import annotations

import base64
import functools
import http.server
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import websocket

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    """Path of a Chromium binary: $CHROMIUM, else chromium / chromium-browser / google-chrome on PATH."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class SiteServer:
    """Serve a built site on 127.0.0.1 in a background thread (what a reader's web server does)."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


class Chromium:
    """One headless browser with a fresh profile and a net log; ``page()`` opens a DevTools session on a new tab."""

    def __init__(self, binary: str, *, width: int = 1280, height: int = 900):
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        self.netlog = self.profile / "netlog.json"
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             f"--log-net-log={self.netlog}", "--net-log-capture-mode=Default",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = self.profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.is_file() and len(port_file.read_text().split()) >= 2:
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"{binary} exited with code {self.proc.returncode} before DevTools started")
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{binary} did not open a DevTools port within 30 s")
        self.port = int(port_file.read_text().split()[0])

    def page(self) -> Page:
        """A new tab, with the Page, Runtime, Log and Network domains enabled."""
        request = Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with urlopen(request, timeout=10) as response:
            info = json.load(response)
        page = Page(info["webSocketDebuggerUrl"], info["id"], self.port)
        # a tab opened beside others is not the active one; focused by emulation, its timers and animation frames
        # run at full speed, so tabs can be driven side by side
        page.send("Emulation.setFocusEmulationEnabled", enabled=True)
        return page

    def close(self) -> list[dict]:
        """Stop the browser and return the net log's events (the file is complete only after exit)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        events = read_netlog(self.netlog)
        shutil.rmtree(self.profile, ignore_errors=True)
        return events


def read_netlog(path: Path) -> list[dict]:
    """Events of a Chromium net log; a log cut short (browser killed) is closed before parsing."""
    text = path.read_text() if path.is_file() else ""
    if not text.strip():
        return []
    try:
        return json.loads(text).get("events", [])
    except json.JSONDecodeError:
        pass
    # Chromium writes one event per line: drop the lines after the last complete event (a kill can cut the file in
    # the middle of one), then close the array.
    lines = text.rstrip().splitlines()
    for end in range(len(lines), max(0, len(lines) - 5), -1):
        try:
            return json.loads("\n".join(lines[:end]).rstrip().rstrip(",") + "]}").get("events", [])
        except json.JSONDecodeError:
            continue
    raise ValueError(f"the net log {path} cannot be parsed even after dropping its last lines")


def netlog_requests(events: list[dict]) -> list[tuple[str, str]]:
    """(url, initiator) of every URL request in a net log.

    Chromium's own traffic (updates, accounts) has initiator "not an origin"; a page's requests have the page's
    origin ("null" for file:// pages).
    """
    out = []
    for event in events:
        params = event.get("params") or {}
        if "url" in params and "initiator" in params:
            out.append((params["url"], params["initiator"]))
    return out


def is_external(url: str, site: str) -> bool:
    """True for an http(s)/ws(s) URL whose host is not the test server's."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return False
    return parts.netloc != urlsplit(site).netloc


class Page:
    """One tab's DevTools session: commands, and the console errors, exceptions and requests it saw."""

    def __init__(self, ws_url: str, target_id: str, port: int):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.target_id, self.port = target_id, port
        self.ids = itertools.count(1)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.loaded = False
        self.urls: dict[str, str] = {}  # request id -> URL
        self.received: dict[str, int] = {}  # URL -> bytes received over the network (body and headers)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def _handle(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append("exception: " + details.get("exception", {}).get("description", details.get("text", "")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append("log: " + params["entry"]["text"] + " " + params["entry"].get("url", ""))
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
            self.urls[params["requestId"]] = params["request"]["url"]
        elif method == "Network.loadingFinished":
            url = self.urls.get(params["requestId"], params["requestId"])
            self.received[url] = self.received.get(url, 0) + int(params.get("encodedDataLength", 0))
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            self.failed.append(f'{params["response"]["status"]} {params["response"]["url"]}')
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            self.failed.append(f'{params.get("errorText")} (request {params["requestId"]})')
        elif method == "Page.loadEventFired":
            self.loaded = True

    def send(self, method: str, **params) -> dict:
        """Send one command and wait for its reply, recording the events that arrive meanwhile."""
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._handle(message)

    def pump(self, seconds: float) -> None:
        """Process events for a while (lets asynchronous scripts run and report)."""
        end = time.monotonic() + seconds
        self.ws.settimeout(0.05)
        try:
            while time.monotonic() < end:
                try:
                    self._handle(json.loads(self.ws.recv()))
                except websocket.WebSocketTimeoutException:
                    pass
        finally:
            self.ws.settimeout(60)

    @property
    def weight(self) -> int:
        """Bytes this tab has received over the network so far (every response, as transferred)."""
        return sum(self.received.values())

    def emulate(self, width: int, height: int, *, mobile: bool = False, scale: float = 1, dark: bool | None = None
                ) -> None:
        """Size the viewport (``mobile``: a phone's viewport, meta viewport and touch) and, if ``dark`` is given,
        the reader's colour-scheme preference; applies to the next ``goto``."""
        self.metrics = {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile}
        self.send("Emulation.setDeviceMetricsOverride", **self.metrics)
        self.send("Emulation.setTouchEmulationEnabled", enabled=mobile)
        if dark is not None:
            self.send("Emulation.setEmulatedMedia", features=[
                {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}])

    def click(self, x: float, y: float) -> None:
        """A real mouse click (press and release) at page coordinates in the viewport."""
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def tap(self, x: float, y: float) -> None:
        """A finger's tap at viewport coordinates: touch start and end (the page then gets the click a phone makes
        of them; needs ``emulate(..., mobile=True)``)."""
        self.send("Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": x, "y": y}])
        self.send("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])

    def goto(self, url: str, timeout: float = 30) -> None:
        """Navigate and wait for the load event."""
        self.loaded = False
        self.send("Page.navigate", url=url)
        end = time.monotonic() + timeout
        while not self.loaded:
            if time.monotonic() > end:
                raise TimeoutError(f"{url} did not finish loading in {timeout} s")
            self.pump(0.1)

    def js(self, expression: str, *, await_promise: bool = True):
        """Evaluate JavaScript in the page and return its JSON value; a thrown error raises."""
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=await_promise, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}...: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20) -> None:
        """Wait until a JavaScript expression is truthy."""
        end = time.monotonic() + timeout
        while not self.js(expression):
            if time.monotonic() > end:
                raise TimeoutError(f"timed out waiting for: {expression}")
            self.pump(0.1)

    def screenshot(self, path: Path, max_height: int = 6000) -> None:
        """PNG of the page, the full height up to ``max_height`` CSS pixels.

        The viewport is made as tall as the shot for the capture and then restored. (Chromium's
        ``captureBeyondViewport`` resizes it during the capture itself, and now and then paints the page mid-layout:
        the text column shifted off the left edge, the sidebar missing.)
        """
        metrics = getattr(self, "metrics", None) or {
            "width": int(self.js("innerWidth")), "height": int(self.js("innerHeight")), "deviceScaleFactor": 1,
            "mobile": False}
        height = min(max_height, int(self.js("document.documentElement.scrollHeight")))
        layout = "document.documentElement.getBoundingClientRect().height"  # reading it forces a layout
        self.send("Emulation.setDeviceMetricsOverride", **{**metrics, "height": max(height, metrics["height"])})
        try:
            self.js("window.scrollTo(0, 0)")
            self.js(layout)
            self.pump(0.3)
            width = int(self.js("document.documentElement.clientWidth"))
            shot = self.send("Page.captureScreenshot", format="png",
                             clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        finally:
            self.send("Emulation.setDeviceMetricsOverride", **metrics)
            self.js(layout)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.ws.close()
        try:
            urlopen(f"http://127.0.0.1:{self.port}/json/close/{self.target_id}", timeout=5).close()
        except OSError:
            pass
