#!/usr/bin/env bash
# Set up the environment and run the main job on the built-in synthetic dataset
# (the README's first command): MoCo pretraining (rho = 2 clips per video) of a
# Slow-only R10, then the linear probe and retrieval (R@k) of the pretrained
# backbone, next to the same evaluations of a randomly initialised backbone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
OUT=${OUT:-output/quickstart}
METHOD=${METHOD:-moco}   # moco | byol | simclr | swav
.venv/bin/python tools/ssl_vs_random.py --methods "$METHOD" --seeds 0 --out "$OUT" "$@"
