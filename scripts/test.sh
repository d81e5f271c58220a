#!/usr/bin/env bash
# Set up the environment and run the test suite (the README's second command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/python -m pytest -q tests "$@"
