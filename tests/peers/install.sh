#!/usr/bin/env bash
# Installs the pinned third-party WAMP peers the interoperability tests drive:
# AutobahnPython (PyPI `autobahn`) into tests/peers/.venv, the Crossbar.io
# router (PyPI `crossbar`) into tests/peers/.venv-crossbar and AutobahnJS
# (npm `autobahn`) into tests/peers/js/node_modules. Safe to run repeatedly:
# an install whose pinned versions are already present is skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

AUTOBAHN_PY_VERSION="26.10.2"
CROSSBAR_VERSION="26.10.1"

python="${PYTHON:-python3}"
venv="$here/.venv"
stamp="$venv/.installed-autobahn-$AUTOBAHN_PY_VERSION"
if [ ! -f "$stamp" ]; then
  echo "installing AutobahnPython $AUTOBAHN_PY_VERSION into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "autobahn[serialization]==$AUTOBAHN_PY_VERSION" "numpy<2"
  touch "$stamp"
fi

# Crossbar pins its own autobahn (and much else), so it gets a venv of its
# own rather than sharing the AutobahnPython one above. `numpy<2` for the same
# reason as there: the bjdata (UBJSON) wheel it pulls in is built against
# numpy 1 and prints an "_ARRAY_API not found" traceback on import with numpy 2.
cb_venv="$here/.venv-crossbar"
cb_stamp="$cb_venv/.installed-crossbar-$CROSSBAR_VERSION"
if [ ! -f "$cb_stamp" ]; then
  echo "installing Crossbar.io $CROSSBAR_VERSION into $cb_venv"
  rm -rf "$cb_venv"
  "$python" -m venv "$cb_venv"
  "$cb_venv/bin/pip" install --quiet --disable-pip-version-check \
    "crossbar==$CROSSBAR_VERSION" "numpy<2"
  "$cb_venv/bin/crossbar" version >/dev/null
  touch "$cb_stamp"
fi

js="$here/js"
if [ ! -f "$js/node_modules/.installed" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.installed" ]; then
  echo "installing AutobahnJS (pinned in $js/package.json)"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$js/node_modules/.installed"
fi
