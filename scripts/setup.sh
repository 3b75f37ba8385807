#!/usr/bin/env bash
# Install everything the compendium needs on a fresh Debian machine (run as root).
# Idempotent: quick when the environment is already complete.
#   - Debian libraries for GPAW (libxc, OpenBLAS, Open MPI), Chromium and MathJax (for the browser test) and
#     Wannier90 (wannier90.x, for helpers.dft.jobs.wannier90)
#   - a virtual environment in .venv with GPAW compiled from PyPI (MPI enabled)
#   - the project itself (src/helpers) in editable mode, with its book and test extras
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
VENV="${VENV:-$here/.venv}"
stamp="$VENV/.setup-complete"
want="$(cat pyproject.toml scripts/setup.sh scripts/gpaw-siteconfig.py | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: environment in $VENV is up to date"
  exit 0
fi

debs="libxc-dev libopenblas-dev libopenmpi-dev openmpi-bin chromium libjs-mathjax wannier90"
missing=""
for p in $debs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip wheel setuptools
if ! "$VENV/bin/gpaw" info 2>/dev/null | grep -q "MPI enabled *yes"; then
  echo "setup: compiling GPAW 26.7.0 from its PyPI source with MPI (a few minutes)"
  CC=mpicxx GPAW_CONFIG="$here/scripts/gpaw-siteconfig.py" \
    "$VENV/bin/python" -m pip install -q --no-binary gpaw "gpaw==26.7.0" "gpaw-data==1.2.1"
fi
"$VENV/bin/python" -m pip install -q -e ".[book,test]"
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "$want" > "$stamp"
echo "setup: done ($VENV)"
