#!/usr/bin/env bash
# Build the HTML book (the main job): set up the environment if needed, execute every notebook
# with papermill at the `paper` profile from the committed cache, build with Jupyter Book 1.
# Output: _build/html/index.html. Quick once the environment exists.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/python -m helpers book --profile "${PROFILE:-paper}"
