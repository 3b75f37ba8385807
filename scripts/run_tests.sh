#!/usr/bin/env bash
# Run the test suite: set up the environment if needed, then pytest. The suite includes real
# GPAW calculations at the `smoke` profile with an empty cache (20-40 minutes on 2 cores)
# and executes every notebook with papermill. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest "$@"
