"""Real-browser test support: a Streamlit server subprocess + Debian's headless Chromium.

Setup (once per machine / in CI): ``bash scripts/install-browser.sh .venv``.
That apt-installs /usr/bin/chromium and pip-installs ``playwright``; it never
runs ``playwright install`` (which downloads a browser and cannot work here).

Typical use::

    from tests.support.browser import (
        chromium_page, streamlit_server, wait_for_app_ready, chat_submit,
        wait_for_text, require_browser,
    )

    with streamlit_server("app.py", {"DOCQA_INDEX": str(idx)}) as url, \
            chromium_page() as page:
        page.goto(url)
        wait_for_app_ready(page)
        chat_submit(page, "What is X?")
        wait_for_text(page, "expected answer")

Skip cleanly when the browser is not there: call ``require_browser()`` (or use
``pytest.importorskip``) at the top of a test or module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, Mapping

CHROMIUM_PATH = os.environ.get("DOCQA_CHROMIUM", "/usr/bin/chromium")

# The closed network refuses Chromium's background connections (updates, sync,
# QUIC probes...); these flags stop it from trying. --no-sandbox because CI
# runs as root; --disable-dev-shm-usage so a small /dev/shm (containers)
# cannot crash the renderer.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

# Selectors for Streamlit (1.4x-1.6x) DOM test ids.
APP = '[data-testid="stApp"]'
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
STATUS_RUNNING = '[data-testid="stStatusWidget"]'
CHAT_INPUT = '[data-testid="stChatInputTextArea"]'
CHAT_SUBMIT = '[data-testid="stChatInputSubmitButton"]'
TEXT_INPUT = '[data-testid="stTextInput"] input'
EXCEPTION = '[data-testid="stException"]'


# --------------------------------------------------------------------------
# availability
# --------------------------------------------------------------------------

def browser_available() -> tuple[bool, str]:
    """(ok, reason): is Chromium at CHROMIUM_PATH and is playwright importable?"""
    if not (os.path.isfile(CHROMIUM_PATH) and os.access(CHROMIUM_PATH, os.X_OK)):
        return False, f"{CHROMIUM_PATH} missing (run scripts/install-browser.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False, "python package playwright missing (run scripts/install-browser.sh)"
    return True, ""


def require_browser() -> None:
    """pytest.skip() the calling test unless the browser stack is installed.

    Set DOCQA_REQUIRE_BROWSER=1 (e.g. in CI) to make a missing browser a
    failure instead of a skip.
    """
    import pytest

    ok, why = browser_available()
    if ok:
        return
    if os.environ.get("DOCQA_REQUIRE_BROWSER") == "1":
        pytest.fail(why)
    pytest.skip(why)


# --------------------------------------------------------------------------
# streamlit server
# --------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stop_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


class StreamlitServerError(RuntimeError):
    pass


@contextlib.contextmanager
def streamlit_server(
    app_path: str | os.PathLike,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    timeout: float = 60,
    *,
    cwd: str | os.PathLike | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Run ``streamlit run app_path`` in a subprocess; yield its base URL.

    ``env`` is merged over os.environ. The server runs headless (no browser
    launch, no first-run e-mail prompt), with no file watcher, on 127.0.0.1.
    Waits until /_stcore/health says ``ok``; raises StreamlitServerError with
    the server's captured output if it exits or ``timeout`` passes first.
    The whole process group is terminated (then killed) on exit.
    The server's output goes to a temp log (``streamlit_server.last_log``),
    deleted on a clean exit; if the with-body raises, it is kept and its tail
    printed to stderr (pytest shows it with the failure).
    """
    app_path = Path(app_path).resolve()
    if not app_path.is_file():
        raise FileNotFoundError(app_path)
    port = port or free_port()
    full_env = dict(os.environ)
    full_env.update({k: str(v) for k, v in (env or {}).items()})
    # No usage stats, no "Welcome! e-mail" prompt, no watcher threads.
    full_env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    full_env.setdefault("STREAMLIT_SERVER_HEADLESS", "true")
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        *extra_args,
    ]
    log = tempfile.NamedTemporaryFile(
        prefix=f"streamlit-{port}-", suffix=".log", delete=False
    )
    streamlit_server.last_log = Path(log.name)
    proc = subprocess.Popen(
        cmd,
        cwd=str(cwd) if cwd else str(app_path.parent),
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # own process group -> killpg takes children too
    )
    base = f"http://127.0.0.1:{port}"

    def _output() -> str:
        if not log.closed:
            log.flush()
        try:
            return Path(log.name).read_text(errors="replace")[-8000:]
        except OSError:
            return "<no output>"

    keep_log = True  # unless the body completes normally
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                keep_log = False  # the error carries the output
                raise StreamlitServerError(
                    f"streamlit exited with {proc.returncode} before becoming "
                    f"healthy.\ncmd: {' '.join(cmd)}\n--- output ---\n{_output()}"
                )
            if _health_ok(base + "/_stcore/health"):
                break
            if time.monotonic() > deadline:
                keep_log = False  # the error carries the output
                raise StreamlitServerError(
                    f"streamlit not healthy on {base} after {timeout}s.\n"
                    f"cmd: {' '.join(cmd)}\n--- output ---\n{_output()}"
                )
            time.sleep(0.2)
        yield base
        keep_log = False
    finally:
        _stop_group(proc)
        log.close()
        if keep_log:
            # pytest shows captured stderr of a failed test: point at the log.
            print(f"[streamlit_server] server output kept in {log.name}:\n"
                  f"{_output()[-3000:]}", file=sys.stderr)
        else:
            with contextlib.suppress(OSError):
                os.unlink(log.name)


streamlit_server.last_log = None  # type: ignore[attr-defined]


# --------------------------------------------------------------------------
# browser
# --------------------------------------------------------------------------

class StreamlitWire:
    """Counts finished script runs by decoding the app's websocket traffic.

    The DOM attribute ``data-test-script-state`` can go running->notRunning
    within one React batch (a fast run), so a DOM observer may never see the
    run. The server's ``script_finished`` ForwardMsg is always sent, so counting
    it is race-free. Attached to every page made by chromium_page() as
    ``page.st_wire``.
    """

    def __init__(self) -> None:
        self.finished = 0          # runs that completed (not interrupted)
        self.interrupted = 0       # FINISHED_EARLY_FOR_RERUN
        self.sockets = 0
        self.decode_errors = 0
        try:
            from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        except Exception:  # pragma: no cover - streamlit not importable
            ForwardMsg = None
        self._fm = ForwardMsg

    @property
    def usable(self) -> bool:
        return self._fm is not None and self.sockets > 0

    def attach(self, page) -> None:
        page.on("websocket", self._on_ws)

    def _on_ws(self, ws) -> None:
        if "_stcore/stream" not in ws.url or self._fm is None:
            return
        self.sockets += 1
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload) -> None:
        if isinstance(payload, str):
            return
        try:
            msg = self._fm.FromString(payload)
        except Exception:
            self.decode_errors += 1
            return
        if msg.WhichOneof("type") != "script_finished":
            return
        if msg.script_finished == self._fm.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN:
            self.interrupted += 1
        else:
            self.finished += 1


@contextlib.contextmanager
def chromium_page(
    viewport: tuple[int, int] = (1280, 900),
    *,
    timeout_ms: float = 30_000,
    headless: bool = True,
):
    """Launch Debian's Chromium through playwright and yield a fresh Page.

    ``page.errors`` (a list of str) collects uncaught page errors and console
    errors, for asserting a clean console. Everything is closed afterwards.
    """
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM_PATH):
        raise RuntimeError(f"{CHROMIUM_PATH} missing: run scripts/install-browser.sh")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM_PATH,
            headless=headless,
            args=list(CHROMIUM_ARGS),
            timeout=60_000,
        )
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                locale="en-US",
                timezone_id="UTC",
            )
            context.set_default_timeout(timeout_ms)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on(
                "console",
                lambda msg: errors.append(f"console.{msg.type}: {msg.text}")
                if msg.type == "error" else None,
            )
            page.errors = errors  # type: ignore[attr-defined]
            wire = StreamlitWire()
            wire.attach(page)  # must be before page.goto()
            page.st_wire = wire  # type: ignore[attr-defined]
            try:
                yield page
            finally:
                context.close()
        finally:
            browser.close()


# --------------------------------------------------------------------------
# waiting for Streamlit
# --------------------------------------------------------------------------

def wait_for_idle(page, timeout: float = 30) -> None:
    """Wait until the app is connected and no script run is in progress.

    Uses stApp's ``data-test-script-state="notRunning"`` attribute (set by the
    Streamlit frontend) and the absence of the status widget's running icon.
    NB: right after a click/Enter the rerun may not have *started* yet, so
    this alone can return too early; use run_and_wait() or wait_for_text().
    """
    ms = timeout * 1000
    page.wait_for_selector(APP_IDLE, state="attached", timeout=ms)
    page.wait_for_selector(
        '[data-testid="stStatusWidgetRunningIcon"], '
        '[data-testid="stStatusWidgetRunningManIcon"]',
        state="detached",
        timeout=ms,
    )


def wait_for_app_ready(page, timeout: float = 60) -> None:
    """After page.goto(): wait for the websocket and the first script run."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-connection-state="CONNECTED"]',
        state="attached",
        timeout=timeout * 1000,
    )
    wire = getattr(page, "st_wire", None)
    if wire is not None and wire.usable:
        deadline = time.monotonic() + timeout
        while wire.finished < 1:  # the first script run
            if time.monotonic() > deadline:
                raise TimeoutError(f"first Streamlit run not finished after {timeout}s")
            page.wait_for_timeout(50)
    wait_for_idle(page, timeout)


_WATCH_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__stRunSeen = false;
  if (window.__stRunObs) window.__stRunObs.disconnect();
  window.__stRunObs = new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') !== 'notRunning')
      window.__stRunSeen = true;
  });
  window.__stRunObs.observe(app, {attributes: true,
    attributeFilter: ['data-test-script-state']});
}"""

_DONE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return window.__stRunSeen &&
         app.getAttribute('data-test-script-state') === 'notRunning';
}"""


def run_and_wait(page, action: Callable[[], object], timeout: float = 30) -> None:
    """Do ``action()`` (a click, an Enter...) and wait for the script rerun it
    causes to finish, then for the frontend to be idle.

    Race-free: on pages from chromium_page() it counts the server's
    ``script_finished`` websocket messages (see StreamlitWire); otherwise it
    arms a MutationObserver on stApp's script-state before the action.
    Raises TimeoutError if no rerun completes within ``timeout`` s (an action
    that does not rerun the script, e.g. typing without Enter, never returns).
    """
    wire = getattr(page, "st_wire", None)
    if wire is not None and wire.usable:
        before = wire.finished
        action()
        deadline = time.monotonic() + timeout
        while wire.finished <= before:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no Streamlit script run finished within {timeout}s of the action"
                )
            page.wait_for_timeout(50)  # lets playwright dispatch frame events
        wait_for_idle(page, max(1.0, deadline - time.monotonic()))
        return
    page.wait_for_selector(APP, state="attached", timeout=timeout * 1000)
    page.evaluate(_WATCH_JS)
    action()
    page.wait_for_function(_DONE_JS, timeout=timeout * 1000, polling=100)


def wait_for_text(page, text: str, timeout: float = 30, *, within: str = APP):
    """Wait until ``text`` is visible inside ``within``; return its locator.

    Fails early (with the traceback text) if the app shows an exception.
    """
    from playwright.sync_api import TimeoutError as PWTimeout

    loc = page.locator(within).get_by_text(text, exact=False).first
    deadline = time.monotonic() + timeout
    while True:
        try:
            loc.wait_for(state="visible", timeout=500)
            return loc
        except PWTimeout:
            pass
        exc = page.locator(EXCEPTION)
        if exc.count():
            raise AssertionError(
                f"app raised while waiting for {text!r}:\n{exc.first.inner_text()}"
            )
        if time.monotonic() > deadline:
            body = page.locator(within).inner_text()[-3000:]
            raise AssertionError(
                f"text {text!r} not visible after {timeout}s; page text:\n{body}"
            )


def chat_submit(page, text: str, timeout: float = 30) -> None:
    """Type ``text`` into the (single) st.chat_input and submit it with Enter,
    waiting for the rerun to finish."""
    box = page.locator(CHAT_INPUT)
    box.wait_for(state="visible", timeout=timeout * 1000)
    box.click()
    box.fill(text)  # React-controlled textarea: fill() fires input events
    # The submit button is enabled once React has seen the value.
    page.locator(CHAT_SUBMIT).wait_for(state="visible", timeout=timeout * 1000)
    page.wait_for_function(
        f"() => {{ const b = document.querySelector('{CHAT_SUBMIT}');"
        f" return b && !b.disabled; }}",
        timeout=timeout * 1000,
    )
    run_and_wait(page, lambda: box.press("Enter"), timeout)


def text_input_submit(page, text: str, label: str | None = None, timeout: float = 30) -> None:
    """Type into an st.text_input (by its label, else the first one) and press
    Enter, which commits the value and reruns the script."""
    loc = page.get_by_label(label, exact=True) if label else page.locator(TEXT_INPUT).first
    loc.wait_for(state="visible", timeout=timeout * 1000)
    loc.click()
    loc.fill(text)
    run_and_wait(page, lambda: loc.press("Enter"), timeout)


def click_button(page, name: str, timeout: float = 30) -> None:
    """Click an st.button by its label and wait for the rerun to finish."""
    btn = page.get_by_role("button", name=name, exact=True)
    btn.wait_for(state="visible", timeout=timeout * 1000)
    run_and_wait(page, btn.click, timeout)


def screenshot(page, path: str | os.PathLike, full_page: bool = True) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


__all__ = [
    "CHROMIUM_PATH", "CHROMIUM_ARGS", "StreamlitWire", "browser_available", "require_browser",
    "free_port", "streamlit_server", "StreamlitServerError", "chromium_page",
    "wait_for_idle", "wait_for_app_ready", "run_and_wait", "wait_for_text",
    "chat_submit", "text_input_submit", "click_button", "screenshot",
]
