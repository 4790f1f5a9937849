"""Debian's headless Chromium driven over its DevTools protocol (a websocket; nothing downloaded at run time)."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

import httpx

from deploy.airflow_api import wait_until
from deploy.processes import ProcessRef, spawn, stop


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """One headless browser with one tab: navigate, evaluate JavaScript, type, screenshot."""

    def __init__(self, folder: Path, width: int = 1400, height: int = 900):
        self.folder = folder
        self.size = (width, height)
        self.process: subprocess.Popen | None = None
        self.socket = None
        self.closing = ExitStack()
        self.ids = itertools.count(1)

    def start(self) -> None:
        profile = self.folder / "profile"
        port_file = profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)  # a reused profile keeps the last browser's port
        self.process = spawn(
            [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile}",
             f"--window-size={self.size[0]},{self.size[1]}", "about:blank"],
            env={"HOME": str(self.folder), "PATH": "/usr/bin:/bin"},
            log_path=self.folder / "chromium.log",
        )
        port = wait_until(
            lambda: port_file.is_file() and port_file.read_text().split("\n")[0], 60, "Chromium's DevTools port"
        )
        pages = [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list").json() if t["type"] == "page"]
        from websockets.sync.client import connect

        self.socket = self.closing.enter_context(connect(pages[0]["webSocketDebuggerUrl"], max_size=None))

    def stop(self) -> None:
        self.closing.close()
        if self.process is not None:
            stop([ProcessRef.of(self.process.pid)], timeout=10)
            self.process.wait()

    def call(self, method: str, **params) -> dict:
        """One DevTools command; its result (events arriving meanwhile are dropped)."""
        request_id = next(self.ids)
        self.socket.send(json.dumps({"id": request_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def wait_for(self, expression: str, timeout: float = 60, what: str | None = None):
        """Evaluate `expression` until it is truthy; its value."""
        return wait_until(lambda: self.evaluate(expression), timeout, what or expression, poll=0.5)

    def type_into(self, selector: str, text: str) -> None:
        """Focus the element and type `text` over what it holds, as a user would (React sees the input events)."""
        self.evaluate(f"(e => {{ e.focus(); e.select(); }})(document.querySelector({json.dumps(selector)}))")
        self.call("Input.insertText", text=text)

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))
