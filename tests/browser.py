"""Headless Chromium for the page tests, driven over the DevTools protocol on a pipe (no extra package).

``open_page(path, tmp_path)`` starts Debian's ``chromium`` with the network cut off twice over (the
page's own requests are refused by DevTools' offline mode, and the browser has no proxy or DNS to
reach anything), opens the file, waits until the page says it is ready (``data-todoctl-state``) and
returns what a test needs: console errors and exceptions, every request the page tried to make,
its text, an ``evaluate`` function, and a screenshot saved in ``tmp_path``.

Chromium is started and stopped by this module, by its own pid. Where it is missing, ``CHROMIUM``
is None and the tests that need it skip with the reason.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("TODOCTL_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = "needs Debian's chromium (apt-get install chromium; .ci/run installs it)"
# What a self-contained page may load: itself, and what it builds in memory.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


class PageError(AssertionError):
    pass


@dataclass
class Page:
    url: str
    state: str = ""
    errors: list[str] = field(default_factory=list)  # console.error, uncaught exceptions, failed loads
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    screenshot: Path | None = None
    _client: "_Client | None" = None
    _session: str = ""

    @property
    def remote_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]

    def evaluate(self, expression: str, *, timeout: float = 30):
        """The value of a JavaScript expression in the page (awaited if it is a promise)."""
        reply = self._client.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self._session,
            timeout=timeout,
        )
        if "exceptionDetails" in reply:
            raise PageError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def text(self) -> str:
        return self.evaluate("document.body.innerText")

    def wait_for(self, expression: str, *, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"!!({expression})"):
            if time.monotonic() > deadline:
                raise PageError(f"timed out waiting for {expression}; errors: {self.errors}")
            time.sleep(0.1)
        self._client.drain(0.3)  # let late console messages arrive

    def shoot(self, path: Path) -> Path:
        """A PNG of the whole page (not only the window) at ``path``."""
        metrics = self._client.call("Page.getLayoutMetrics", session=self._session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width, height = min(int(size["width"]), 4000), min(int(size["height"]), 12000)
        shot = self._client.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}},
            session=self._session,
            timeout=60,
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        self.screenshot = path
        return path


class _Client:
    """DevTools messages on Chromium's --remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4."""

    def __init__(self, process: subprocess.Popen, to_browser: int, from_browser: int, page: Page) -> None:
        self.process, self.to_browser, self.from_browser, self.page = process, to_browser, from_browser, page
        self.buffer = b""
        self.next_id = 0
        self.replies: dict[int, dict] = {}

    def send(self, method: str, params: dict | None = None, session: str = "") -> int:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        return self.next_id

    def call(self, method: str, params: dict | None = None, *, session: str = "", timeout: float = 30) -> dict:
        ident = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while ident not in self.replies:
            if time.monotonic() > deadline:
                raise PageError(f"Chromium did not answer {method} within {timeout:g}s")
            self._read(deadline - time.monotonic())
        reply = self.replies.pop(ident)
        if "error" in reply:
            raise PageError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read(deadline - time.monotonic())

    def _read(self, timeout: float) -> None:
        import select

        if self.process.poll() is not None:
            raise PageError(f"Chromium exited with {self.process.returncode}")
        ready, _, _ = select.select([self.from_browser], [], [], max(0.0, min(timeout, 1.0)))
        if not ready:
            return
        chunk = os.read(self.from_browser, 1 << 20)
        if not chunk:
            raise PageError("Chromium closed the DevTools pipe")
        self.buffer += chunk
        while b"\0" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\0", 1)
            message = json.loads(raw)
            if "id" in message:
                self.replies[message["id"]] = message
            else:
                self._event(message.get("method", ""), message.get("params", {}))

    def _event(self, method: str, params: dict) -> None:
        page = self.page
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            page.errors.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            page.errors.append("exception: " + str(details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            page.errors.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            page.requests.append(params.get("request", {}).get("url", ""))


def open_page(path: Path, tmp_path: Path, *, ready_timeout: float = 60, width: int = 1400, height: int = 1000):
    """A context manager: the page at ``path`` opened offline in headless Chromium, ready or failed."""
    from contextlib import contextmanager

    @contextmanager
    def session():
        if CHROMIUM is None:
            raise RuntimeError(MISSING)
        to_read, to_browser = os.pipe()  # Chromium reads commands on fd 3
        from_browser, to_write = os.pipe()  # and writes replies on fd 4

        def plumbing():
            # Above 10 first: os.pipe() may have handed out 3 or 4 itself (dup2 onto the same fd
            # would keep its close-on-exec flag); dup2 makes the copies on 3 and 4 inheritable.
            import fcntl

            read_end, write_end = fcntl.fcntl(to_read, fcntl.F_DUPFD, 10), fcntl.fcntl(to_write, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        profile = tmp_path / "chromium-profile"
        process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",  # as root (CI) Chromium refuses to start without it
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--no-first-run",
                "--no-default-browser-check",
                "--mute-audio",
                # Nothing to reach even if a request got past DevTools' offline mode.
                "--proxy-server=socks5://127.0.0.1:9",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "chromium.log").open("wb"),
            close_fds=False,
            preexec_fn=plumbing,
        )
        os.close(to_read)
        os.close(to_write)
        page = Page(url=path.resolve().as_uri())
        client = _Client(process, to_browser, from_browser, page)
        try:
            target = client.call("Target.createTarget", {"url": "about:blank"}, timeout=60)["targetId"]
            sid = client.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            page._client, page._session = client, sid
            for method in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
                client.call(method, session=sid)
            client.call(
                "Network.emulateNetworkConditions",
                {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
                session=sid,
            )
            client.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=sid)
            client.call("Page.navigate", {"url": page.url}, session=sid, timeout=60)
            deadline = time.monotonic() + ready_timeout
            while True:
                page.state = page.evaluate("(document.documentElement && document.documentElement.getAttribute('data-todoctl-state')) || ''")
                if page.state in ("ready", "error") or time.monotonic() > deadline:
                    break
                client.drain(0.2)
            client.drain(0.5)
            yield page
        finally:
            try:
                client.send("Browser.close")
                process.wait(timeout=10)
            except Exception:
                pass
            if process.poll() is None:
                process.kill()
                process.wait()
            os.close(to_browser)
            os.close(from_browser)

    return session()
