"""Headless Chromium (Debian's `chromium` package) driven over the DevTools protocol.

Just enough of the protocol to open a page, wait until its text shows what we expect (the UI renders
after its GraphQL calls return, so a fixed delay would be either slow or flaky), and take a screenshot.
The websocket client is `websockets`, which dagster-webserver already installs (through uvicorn).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

#: The flags every run uses: no sandbox (root in CI), no GPU, nothing fetched from the network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)


def chromium_binary() -> str | None:
    """SPARKIFY_CHROMIUM, or `chromium` (Debian) / `chromium-browser` on the PATH."""
    configured = os.environ.get("SPARKIFY_CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One browser tab."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=60))
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def viewport(self, width: int, height: int, scale: float = 1) -> None:
        """Make the page's viewport exactly ``width`` x ``height`` CSS pixels, ``scale`` device pixels each."""
        self.call(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=scale, mobile=False
        )

    def local_storage(self, key: str, value: Any) -> None:
        """Set a localStorage item (JSON) in every page opened from now on, before the page's scripts run."""
        script = f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(value))});"
        self.call("Page.addScriptToEvaluateOnNewDocument", source=script)

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True).get("result", {}).get("value")

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''") or ""

    def wait_for_text(
        self, wanted: Sequence[str], absent: Sequence[str] = (), timeout: float = 30, settle: float = 1.0
    ) -> str:
        """Wait until the page shows every string of ``wanted`` and none of ``absent`` ("Loading"), then
        for its text to stop changing.

        The text counts as settled when it has not changed for ``settle`` seconds, or after 5 seconds
        of changes (relative times such as "2 minutes ago" keep ticking).
        """
        deadline = time.monotonic() + timeout
        text = self.text()
        while not all(item in text for item in wanted) or any(item in text for item in absent):
            if time.monotonic() > deadline:
                missing = [item for item in wanted if item not in text]
                still = [item for item in absent if item in text]
                raise AssertionError(f"page never showed {missing} (still showing {still}):\n{text[:2000]}")
            time.sleep(0.5)
            text = self.text()
        quiet_since, give_up = time.monotonic(), time.monotonic() + 5
        while time.monotonic() - quiet_since < settle and time.monotonic() < give_up:
            time.sleep(0.25)
            latest = self.text()
            if latest != text:
                text, quiet_since = latest, time.monotonic()
        time.sleep(0.5)  # the graph's zoom-to-fit animation
        return text

    def click(self, text: str, selector: str = "*") -> None:
        """Click what a user clicks: the visible element matching ``selector`` whose text is exactly
        ``text`` (the innermost one; a click bubbles up to the row or tab that handles it)."""
        if not self.evaluate(_CLICK % (json.dumps(selector), json.dumps(text))):
            raise AssertionError(f"nothing to click: {selector} {text!r}:\n{self.text()[:2000]}")

    def screenshot(self, path: Path, around: str | None = None, margin: int = 24) -> Path:
        """A PNG of the viewport, or of the area around every element matching the CSS selector ``around``."""
        params: dict[str, Any] = {"format": "png"}
        if around is not None:
            box = self.evaluate(_UNION_OF_RECTS % json.dumps(around))
            if box:
                left, top = max(box["left"] - margin, 0), max(box["top"] - margin, 0)
                width, height = box["right"] + margin - left, box["bottom"] + margin - top
                params["clip"] = {"x": left, "y": top, "width": width, "height": height, "scale": 1}
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


#: Click the innermost visible element matching a selector whose text is exactly the given text.
_CLICK = """
(() => {
  const [selector, text] = [%s, %s];
  const matches = Array.from(document.querySelectorAll(selector)).filter(
    (e) => e.textContent.trim() === text && e.checkVisibility({visibilityProperty: true}));
  const innermost = matches.filter((e) => !matches.some((other) => other !== e && e.contains(other)));
  if (!innermost.length) return false;
  innermost[0].click();
  return true;
})()
"""

#: The smallest box around every element matching a selector, within the viewport (or null).
_UNION_OF_RECTS = """
(() => {
  const rects = Array.from(document.querySelectorAll(%s)).map((e) => e.getBoundingClientRect())
    .filter((r) => r.width > 0 && r.height > 0);
  if (!rects.length) return null;
  return {
    left: Math.max(0, Math.min(...rects.map((r) => r.left))),
    top: Math.max(0, Math.min(...rects.map((r) => r.top))),
    right: Math.min(window.innerWidth, Math.max(...rects.map((r) => r.right))),
    bottom: Math.min(window.innerHeight, Math.max(...rects.map((r) => r.bottom))),
  };
})()
"""


@contextmanager
def chromium(binary: str, profile: Path, width: int = 1600, height: int = 1000, timeout: float = 30) -> Iterator[Page]:
    """A headless Chromium on a fresh profile (an empty folder) and its first tab, closed afterwards.

    The tab's viewport is exactly ``width`` x ``height`` CSS pixels (see `Page.viewport`).
    """
    profile.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port = _devtools_port(profile, process, time.monotonic() + timeout)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            tabs = [tab for tab in json.load(response) if tab.get("type") == "page"]
        with connect(tabs[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as socket:
            page = Page(socket)
            page.call("Page.enable")
            page.viewport(width, height)
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _devtools_port(profile: Path, process: subprocess.Popen, deadline: float) -> int:
    """Chromium writes the port it chose for --remote-debugging-port=0 into the profile."""
    marker = profile / "DevToolsActivePort"
    while True:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().splitlines()[0])
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode} before opening DevTools")
        if time.monotonic() > deadline:
            raise RuntimeError("chromium did not open DevTools in time")
        time.sleep(0.2)
