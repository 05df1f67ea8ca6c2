"""Self-check of the real-browser harness (tests/support/browser.py).

Writes a throwaway Streamlit app into tmp_path, serves it, drives it with
Debian's headless Chromium through playwright, and checks the echo. Skips when
the browser stack is not installed (scripts/install-browser.sh), unless
DOCQA_REQUIRE_BROWSER=1.
"""

import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root

from tests.support.browser import (  # noqa: E402
    chat_submit,
    chromium_page,
    click_button,
    require_browser,
    screenshot,
    streamlit_server,
    text_input_submit,
    wait_for_app_ready,
    wait_for_text,
)


ECHO_APP = textwrap.dedent(
    '''
    import html
    import os

    import streamlit as st

    st.set_page_config(page_title="harness echo")
    st.title(os.environ.get("ECHO_TITLE", "no title"))

    if "log" not in st.session_state:
        st.session_state.log = []

    typed = st.text_input("Your text", key="typed", placeholder="type here")
    if st.button("Echo"):
        st.session_state.log.append("button:" + typed)

    prompt = st.chat_input("Ask a question")
    if prompt:
        st.session_state.log.append("chat:" + prompt)

    for line in st.session_state.log:
        # st.text never interprets markdown/HTML; escape anyway for the probe.
        st.text("echo " + line)
    st.markdown("last: " + html.escape(st.session_state.log[-1] if st.session_state.log else "-"))
    '''
)


@pytest.fixture
def echo_app(tmp_path):
    app = tmp_path / "echo_app.py"
    app.write_text(ECHO_APP)
    return app


def test_chat_input_and_button_echo(echo_app, tmp_path):
    require_browser()
    payload = "hello <b>world</b> & ünïcode *not bold*"
    with streamlit_server(echo_app, {"ECHO_TITLE": "Echo harness"}) as url, \
            chromium_page() as page:
        page.goto(url)
        wait_for_app_ready(page)
        wait_for_text(page, "Echo harness")  # env var reached the app

        # st.chat_input: type + Enter
        chat_submit(page, payload)
        echoed = wait_for_text(page, "echo chat:" + payload)
        assert echoed.inner_text().strip() == "echo chat:" + payload
        # the chat box is cleared after submit
        assert page.locator('[data-testid="stChatInputTextArea"]').input_value() == ""

        # st.text_input + st.button
        text_input_submit(page, "via button", label="Your text")
        click_button(page, "Echo")
        wait_for_text(page, "echo button:via button")

        # HTML was escaped, not rendered
        assert page.locator('[data-testid="stApp"] b').count() == 0
        assert not page.locator('[data-testid="stException"]').count()

        shot = screenshot(page, tmp_path / "echo.png")
        assert shot.stat().st_size > 5000
        bad = [e for e in page.errors if "pageerror" in e]
        assert not bad, bad


def test_server_failure_reports_output(tmp_path):
    require_browser()
    from tests.support.browser import StreamlitServerError

    app = tmp_path / "app.py"
    app.write_text("import streamlit as st\nst.write('x')\n")
    with pytest.raises(StreamlitServerError, match="no-such-option|No such option"):
        with streamlit_server(app, {}, extra_args=("--no-such-option", "1"), timeout=30):
            pass
