#!/usr/bin/env bash
# Installs the pinned third-party WAMP peers the interoperability tests drive:
# AutobahnPython (PyPI `autobahn`) into tests/peers/.venv, the Crossbar.io
# router (PyPI `crossbar`) into tests/peers/.venv-crossbar and AutobahnJS
# (npm `autobahn`) into tests/peers/js/node_modules, and the Autobahn
# WebSocket testsuite (PyPI `autobahntestsuite`, Python 2) into
# tests/peers/.wstest; tinyproxy (Debian) for the proxy tests; and, for
# the chat example's browser test, Chromium (Debian) and the page's npm
# packages (examples/chat/web). Safe to
# run repeatedly: an install whose pinned versions are already present is
# skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

AUTOBAHN_PY_VERSION="26.10.2"
CROSSBAR_VERSION="26.10.1"
WSTEST_VERSION="0.8.2"

python="${PYTHON:-python3}"

# venv_install DIR STAMP_NAME DESCRIPTION PACKAGE...: a fresh virtualenv in
# DIR with the packages, unless DIR/STAMP_NAME says it is already there.
venv_install() {
  local venv="$1" stamp="$1/$2" what="$3"
  shift 3
  if [ -f "$stamp" ]; then
    return
  fi
  echo "installing $what into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
  # Crossbar must start: a broken install fails here, not in a test.
  if [ -x "$venv/bin/crossbar" ]; then
    "$venv/bin/crossbar" version >/dev/null
  fi
  touch "$stamp"
}

# `numpy<2`: the bjdata (UBJSON) wheel that autobahn's serialization extra
# pulls in is built against numpy 1 and prints an "_ARRAY_API not found"
# traceback on import with numpy 2. The encryption extra brings PyNaCl, for
# WAMP-cryptosign.
venv_install "$here/.venv" ".installed-autobahn-$AUTOBAHN_PY_VERSION-encryption" \
  "AutobahnPython $AUTOBAHN_PY_VERSION" "autobahn[serialization,encryption]==$AUTOBAHN_PY_VERSION" "numpy<2"

# Crossbar pins its own autobahn (and much else), so it gets a venv of its
# own rather than sharing the AutobahnPython one above.
venv_install "$here/.venv-crossbar" ".installed-crossbar-$CROSSBAR_VERSION" \
  "Crossbar.io $CROSSBAR_VERSION" "crossbar==$CROSSBAR_VERSION" "numpy<2"

js="$here/js"
if [ ! -f "$js/node_modules/.installed" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.installed" ]; then
  echo "installing AutobahnJS (pinned in $js/package.json)"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$js/node_modules/.installed"
fi

# The chat example's page: the browser build of AutobahnJS it serves and
# playwright-core, which drives Chromium in its end-to-end test.
chat_web="$here/../../examples/chat/web"
if [ ! -f "$chat_web/node_modules/.installed" ] || [ "$chat_web/package-lock.json" -nt "$chat_web/node_modules/.installed" ]; then
  echo "installing the chat page's packages (pinned in $chat_web/package.json)"
  (cd "$chat_web" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$chat_web/node_modules/.installed"
fi

# The testsuite is Python 2 code (its newest release no longer imports on
# Python 3): pyenv's 2.7.18, packages installed with `pip --target`.
wstest="$here/.wstest"
if [ ! -f "$wstest/.installed-autobahntestsuite-$WSTEST_VERSION" ]; then
  python2="${PYTHON2:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/2.7.18/bin/python}"
  if [ ! -x "$python2" ]; then
    echo "the Autobahn WebSocket testsuite needs Python 2.7 (pyenv 2.7.18, or set PYTHON2): $python2 not found" >&2
    exit 1
  fi
  echo "installing the Autobahn WebSocket testsuite $WSTEST_VERSION into $wstest"
  rm -rf "$wstest"
  "$python2" -m pip install --quiet --disable-pip-version-check --target "$wstest" \
    "autobahntestsuite==$WSTEST_VERSION"
  echo "$python2" > "$wstest/python"
  touch "$wstest/.installed-autobahntestsuite-$WSTEST_VERSION"
fi

# apt_install PACKAGE...: Debian packages, refreshing the package lists
# only if the first attempt fails.
apt_install() {
  local sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get install -y -q "$@" >/dev/null \
    || { $sudo_cmd apt-get update -q >/dev/null && $sudo_cmd apt-get install -y -q "$@" >/dev/null; }
}

# Chromium (Debian), the browser of the chat example's end-to-end test (a
# test tool's own browser download does not work everywhere).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (Debian package)"
  apt_install chromium
fi

# tinyproxy (Debian), the HTTP proxy the client's proxy tests tunnel
# through; they start their own instance on a free loopback port.
if ! command -v tinyproxy >/dev/null && [ ! -x /usr/sbin/tinyproxy ]; then
  echo "installing tinyproxy (Debian package)"
  apt_install tinyproxy
  # The package starts a system-wide instance where it can; the tests do
  # not use it.
fi
