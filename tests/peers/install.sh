#!/usr/bin/env bash
# Installs the pinned third-party WAMP peers the interoperability tests drive:
# AutobahnPython (PyPI `autobahn`) into tests/peers/.venv and AutobahnJS
# (npm `autobahn`) into tests/peers/js/node_modules. Safe to run repeatedly:
# an install whose pinned versions are already present is skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

AUTOBAHN_PY_VERSION="26.10.2"

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

js="$here/js"
if [ ! -f "$js/node_modules/.installed" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.installed" ]; then
  echo "installing AutobahnJS (pinned in $js/package.json)"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$js/node_modules/.installed"
fi
