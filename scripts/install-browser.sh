#!/usr/bin/env bash
# Install what the real-browser tests need, idempotently:
#   * Debian's headless Chromium (/usr/bin/chromium) via apt-get, only if missing;
#   * the Python package `playwright` into the given virtualenv (pip only).
#
# Usage: scripts/install-browser.sh [VENV]      (default: .venv)
#
# NEVER runs `playwright install`: that downloads Playwright's own browser
# build, which is impossible on a machine that reaches only package
# registries. Tests drive Debian's browser instead via
# executable_path="/usr/bin/chromium" (see tests/support/browser.py).
set -euo pipefail

VENV="${1:-.venv}"
CHROMIUM=/usr/bin/chromium

step_start() { STEP_T0=$(date +%s.%N); echo "[install-browser] $*"; }
step_end() {
    local t1; t1=$(date +%s.%N)
    awk -v a="$STEP_T0" -v b="$t1" -v m="$1" 'BEGIN { printf "[install-browser] %s done in %.1fs\n", m, b - a }'
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- 1. Chromium from Debian -------------------------------------------------
if [ -x "$CHROMIUM" ]; then
    echo "[install-browser] $CHROMIUM present: $("$CHROMIUM" --version 2>/dev/null || echo '?')"
else
    export DEBIAN_FRONTEND=noninteractive
    # Only refresh the package lists when apt does not know the package yet.
    if ! apt-cache show chromium >/dev/null 2>&1 \
        || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' 2>/dev/null | head -1)" ]; then
        step_start "apt-get update"
        as_root apt-get update -qq
        step_end "apt-get update"
    fi
    # fonts-liberation is only a Recommends of chromium; without some font
    # pages render as boxes. apt output goes to a log that is shown on failure.
    apt_install() {
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends -o Dpkg::Use-Pty=0 chromium fonts-liberation \
            >/tmp/install-browser-apt.log 2>&1
    }
    step_start "apt-get install chromium"
    if ! apt_install; then
        # Stale package lists (404 on an old version): refresh once, retry.
        echo "[install-browser] install failed; apt-get update and retry"
        tail -5 /tmp/install-browser-apt.log >&2 || true
        as_root apt-get update -qq
        apt_install || { cat /tmp/install-browser-apt.log >&2; exit 1; }
    fi
    step_end "apt-get install chromium"
    [ -x "$CHROMIUM" ] || { echo "[install-browser] $CHROMIUM still missing" >&2; exit 1; }
    echo "[install-browser] installed: $("$CHROMIUM" --version 2>/dev/null || echo '?')"
fi

# --- 2. playwright (Python package only) -------------------------------------
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
    echo "[install-browser] no python at $PY (pass the venv as \$1)" >&2
    exit 1
fi
if "$PY" -c 'import playwright.sync_api' >/dev/null 2>&1; then
    echo "[install-browser] playwright present: $("$PY" -m pip show playwright 2>/dev/null | awk '/^Version:/ {print $2}')"
else
    step_start "pip install playwright"
    # Pinned for reproducible CI (1.65.2 drives Debian's Chromium 150 fine);
    # override with PLAYWRIGHT_SPEC=playwright==X.Y.Z.
    "$PY" -m pip install -q --disable-pip-version-check "${PLAYWRIGHT_SPEC:-playwright==1.65.2}"
    step_end "pip install playwright"
fi
