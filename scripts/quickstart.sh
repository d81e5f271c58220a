#!/usr/bin/env bash
# Set up the environment and run the main job on the built-in synthetic dataset
# (the README's first command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
OUT=${OUT:-output/quickstart}
.venv/bin/python tools/run_net.py --cfg configs/synthetic/supervised_R10.yaml OUTPUT_DIR "$OUT/supervised"
.venv/bin/python - "$OUT/supervised/results_supervised_topk.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"\nquickstart: supervised Slow R10 on synthetic data, {r['views_per_video']}-view test: "
      f"top-1 {r['top1_acc']:.1f}% (chance {r['chance_acc']:.1f}%)")
PY
