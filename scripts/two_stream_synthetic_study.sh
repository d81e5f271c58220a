#!/usr/bin/env bash
# CoCLR's (or ViCC's) alternation on the synthetic set, then every stage evaluated: retrieval (R@k, train =
# gallery, test = queries) and a 10-epoch linear probe, each on its own stream, plus CoCLR's R+F fusion.
#   bash scripts/two_stream_synthetic_study.sh coclr output/coclr_study "0 1 2" [--half]
#   bash scripts/two_stream_synthetic_study.sh vicc  output/vicc_study  "0 1 2"
# Rerunning continues where it stopped: finished stages and evaluations are skipped.
set -euo pipefail
method=${1:?coclr or vicc}; root=${2:?output root}; seeds=${3:-0 1 2}; shift 3 || true
cd "$(dirname "$0")/.."
py=${PYTHON:-python}
case $method in
  coclr) driver=(tools/coclr_cycle.py); first_flow=infonce_flow; stream_key=SSL.COCLR_STREAM ;;
  vicc)  driver=(tools/coclr_cycle.py --method vicc); first_flow=single_flow; stream_key=SSL.COCLR_STREAM ;;
  *) echo "unknown method $method (coclr | vicc)" >&2; exit 2 ;;
esac
linear=configs/synthetic/contrastive_ssl/linear_R10.yaml
config_of() {  # the pretraining config of a stage folder name
  case $1 in infonce_*) echo configs/synthetic/coclr/InfoNCE_R10.yaml ;; coclr_*) echo configs/synthetic/coclr/CoCLR_R10.yaml ;;
             single_*) echo configs/synthetic/vicc/ViCC_R10.yaml ;; cross_*) echo configs/synthetic/vicc/ViCC_cross_R10.yaml ;;
  esac
}

for s in $seeds; do
  R=$root/seed$s
  $py "${driver[@]}" --root "$R" "$@" RNG_SEED "$s"
  for dir in "$R"/*/; do
    stage=$(basename "$dir")
    [ -d "$dir/checkpoints" ] || continue
    case $stage in *flow*) flow=(DATA.USE_FLOW True DATA.INPUT_STREAM flow); stream=flow ;;
                   *) flow=(); stream=rgb ;; esac
    [ -f "$dir/retrieval.pt" ] || $py tools/run_net.py --cfg "$(config_of "$stage")" $stream_key $stream RNG_SEED "$s" \
      TRAIN.ENABLE False TEST.EVALUATOR retrieval TEST.SAVE_RESULTS_PATH retrieval.pt OUTPUT_DIR "$dir"
    [ -f "$dir/linear.pt" ] || $py tools/run_net.py --cfg "$linear" RNG_SEED "$s" SYNTHETIC.WRITE_FLOW True \
      "${flow[@]}" TEST.SAVE_RESULTS_PATH linear.pt OUTPUT_DIR "$dir"
  done
  # R+F of each RGB stage with the newest flow stage that was trained before or with it
  for rgb in "$R"/*rgb*/; do
    r=$(basename "$rgb"); f=${r/rgb/flow}
    [ -d "$R/$f" ] || f=$first_flow
    [ -f "$R/$f/retrieval.pt" ] || continue
    for kind in retrieval linear; do
      $py tools/fuse_streams.py "$rgb/$kind.pt" "$R/$f/$kind.pt" --out "$R/fused_${kind}_${r}+${f}.json" >/dev/null
    done
  done
done
