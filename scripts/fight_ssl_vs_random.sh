#!/usr/bin/env bash
# SSL-pretrained vs randomly initialised backbone on real videos: the Surveillance Camera
# Fight dataset (300 clips, 2 classes, ../shared/data/fight-surveillance, see its README).
#   1. re-encode every clip to one size (112x84, aspect not kept: the raw clips' resolution
#      and orientation differ between the classes) with a keyframe every 16 frames;
#   2. train.csv / test.csv (Kinetics layout) from the dataset's split.csv (split by source video);
#   3. contrastive methods (METHODS): tools/ssl_vs_random.py with every job pointed at those
#      CSVs: SSL pretraining on the train split, then linear probe (train -> test) and retrieval
#      (train = gallery, test = queries) of the pretrained and of a randomly initialised backbone
#      (the random-backbone probe is the floor);
#   3b. supervised from scratch (R10, same clips): the reference for the probes;
#   4. masked autoencoders (MAE_RECIPES: mae_st, videomae): tools/mae_vs_random.py, pretraining
#      the tiny ViT on the train split's videos, then the same finetune from the MAE checkpoint
#      and from random init (the latter is the supervised-from-scratch reference), plus the
#      masked-patch loss / PSNR on held-out test clips;
#   5. tools/feature_diagnosis.py per method and seed: does a backbone's nearest neighbour share
#      the class or the source video (random init vs pretrained)?
#   SRC=... OUT=... [DATA=...] SEEDS="0 1 2" METHODS="moco byol simclr swav" MAE_RECIPES="mae_st videomae" \
#     bash scripts/fight_ssl_vs_random.sh [extra --opts/--eval-opts for the contrastive sweep]
# METHODS="" or MAE_RECIPES="" skips that part, SUPERVISED=0 the supervised runs.  Every part
# resumes where it stopped (finished jobs are not rerun).
# The study and its pilots: docs/experiments/real_video.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${SRC:-../shared/data/fight-surveillance}
OUT=${OUT:-output/fight_ssl_vs_random}
SEEDS=${SEEDS:-0}
METHODS=${METHODS-moco}
MAE_RECIPES=${MAE_RECIPES-mae_st videomae}
PY=${PYTHON:-.venv/bin/python}
DATA=${DATA:-$OUT/data}  # the re-encoded clips and CSVs (shared by studies: DATA=...)
"$PY" tools/prepare_resize.py "$SRC" "$DATA/videos" --size 112x84 --gop 16
"$PY" - "$SRC/split.csv" "$DATA" <<'PY'
import csv, os, sys
split_csv, data = sys.argv[1:]
classes = {"fight": 0, "noFight": 1}
rows = {"train": [], "test": []}
with open(split_csv) as f:
    for r in csv.DictReader(f):
        rows[r["split"]].append(f"{os.path.splitext(r['path'])[0]}.mp4 {classes[r['label']]}")
for split, lines in rows.items():
    with open(os.path.join(data, f"{split}.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{split}.csv: {len(lines)} clips")
PY
cp "$DATA/test.csv" "$DATA/val.csv"
DATA_OPTS=(TRAIN.DATASET kinetics TEST.DATASET kinetics DATA.PATH_TO_DATA_DIR "$DATA"
           DATA.PATH_PREFIX "$DATA/videos" DATA.TRAIN_JITTER_SCALES "[56,64]"
           DATA.TRAIN_CROP_SIZE 48 DATA.TEST_CROP_SIZE 56 DATA.NUM_FRAMES 4 DATA.SAMPLING_RATE 4)
# The synthetic configs' grey-video settings (no colour jitter, crops >= 60% of the frame) are
# undone for real videos; 80 epochs (960 steps) as the synthetic recipe: the pilots of
# docs/experiments/real_video.md (20 epochs: docs/experiments/2026-12-ssl-vs-random-fight-surveillance.md).
REAL_OPTS=(DATA.SSL_COLOR_JITTER True DATA.TRAIN_JITTER_SCALES_RELATIVE "[0.3,1.0]" SOLVER.MAX_EPOCH 80)
printf 'fight\nnoFight\n' > "$DATA/classes.txt"  # class names for the picture tools
if [ -n "$METHODS" ]; then
  # shellcheck disable=SC2086
  "$PY" tools/ssl_vs_random.py --methods $METHODS --seeds $SEEDS --out "$OUT" \
    --data-opts "${DATA_OPTS[@]}" --opts "${REAL_OPTS[@]}" --eval-opts MODEL.NUM_CLASSES 2 "$@"
fi
# Supervised from scratch, the contrastive backbone (R10, the same clips and crops): the reference a
# pretrained backbone's linear probe is set against.  <OUT>/supervised/seed<S>/results_supervised_topk.json
if [ "${SUPERVISED:-1}" = 1 ]; then
  for seed in $SEEDS; do
    out="$OUT/supervised/seed$seed"
    [ -f "$out/results_supervised_topk.json" ] && continue
    "$PY" tools/run_net.py --cfg configs/synthetic/supervised_R10.yaml OUTPUT_DIR "$out" RNG_SEED "$seed" \
      "${DATA_OPTS[@]}" MODEL.NUM_CLASSES 2 TEST.NUM_ENSEMBLE_VIEWS 2 TEST.NUM_SPATIAL_CROPS 1
  done
fi
# The tiny-ViT recipes of configs/masked_ssl/synthetic read 8 frames x stride 2 at 64^2: the
# clips' short side (84) is resized to 64-80 before the crop, as the synthetic 64^2 videos are.
MAE_DATA_OPTS=(TRAIN.DATASET kinetics TEST.DATASET kinetics DATA.PATH_TO_DATA_DIR "$DATA"
               DATA.PATH_PREFIX "$DATA/videos")
for recipe in $MAE_RECIPES; do
  # shellcheck disable=SC2086
  "$PY" tools/mae_vs_random.py --recipe "$recipe" --seeds $SEEDS --out "$OUT/$recipe" \
    --data-opts "${MAE_DATA_OPTS[@]}" --ft-opts MODEL.NUM_CLASSES 2 ${MAE_OPTS:-}
done
# 5. what the features retrieve (tools/feature_diagnosis.py): class or source video, random init vs
#    each pretrained checkpoint, per seed; <OUT>/<method>/seed<S>/diagnosis.json.
diagnose() {  # method, seed, config, checkpoint, data opts...
  local method=$1 seed=$2 cfg=$3 ckpt=$4; shift 4
  local out="$OUT/$method/seed$seed/diagnosis.json"
  if [ -f "$out" ] || [ -z "$ckpt" ]; then return 0; fi  # done already, or no pretraining to compare
  "$PY" tools/feature_diagnosis.py --cfg "$cfg" --checkpoints random "$ckpt" --labels random "$method" \
    --groups "$SRC/labels.csv" --json-out "$out" RNG_SEED "$seed" MODEL.NUM_CLASSES 2 "$@"
}
last_ckpt() { ls "$1"/checkpoints/ssl_checkpoint_epoch_*.pyth 2>/dev/null | tail -1; }
for seed in $SEEDS; do
  for method in $METHODS; do
    diagnose "$method" "$seed" configs/synthetic/contrastive_ssl/linear_R10.yaml \
      "$(last_ckpt "$OUT/$method/seed$seed/pretrain")" "${DATA_OPTS[@]}"
  done
  for recipe in $MAE_RECIPES; do
    ft_cfg=$("$PY" -c "import os, sys; from tools.mae_vs_random import CFG_DIR, RECIPES; print(os.path.join(CFG_DIR, RECIPES[sys.argv[1]][1]))" "$recipe")
    diagnose "$recipe" "$seed" "$ft_cfg" "$(last_ckpt "$OUT/$recipe/seed$seed/pretrain")" "${MAE_DATA_OPTS[@]}"
  done
done
