#!/usr/bin/env bash
# The GPU checks of issue 18 in one run, sized for one 10-minute call on a one-GPU machine
# (about 5 minutes on an H100 is expected; each step has its own time limit).
#
#   here:       bash benchmarks/gpu_wheels.sh
#   on the GPU: bash benchmarks/gpu_checks.sh          (device tool: carry [".whl"]; logs go to $OUT)
#
# 1. the tests that choose CUDA when it is there, and the trainer, MAE and ViT tests;
# 2. a 5-iteration MoCo run through tools/run_net.py on one GPU (bf16, synthetic data);
# 3. ViT-B MAE-ST and VideoMAE pretraining: step time, MFU at bf16 with SDPA, peak memory;
# 4. Slow R50 MoCo rho=2 clips/s, 8 workers, augmentation in the workers vs on the GPU;
# 5. the train-step benchmark (trainer vs a bare loop, on-device augmentation) at bf16.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/videossl-gpu-checks}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $out/NAME.log, say how it ended
  local name=$1 limit=$2
  shift 2
  echo "=== $name ($(date +%T), limit ${limit}s): $*"
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  tail -n 12 "$out/$name.log"
  echo "=== $name: exit $rc"
}
nvidia-smi -L
python3 -c "import torch, av; print('torch', torch.__version__, torch.cuda.get_device_name(0), '| PyAV', av.__version__)"
step tests 150 python3 -m pytest -q -p no:cacheprovider tests/test_on_device_augment.py tests/test_trainer_step.py \
  tests/test_mae.py tests/test_vit.py tests/test_bench_mae_mfu.py tests/test_data_decoding.py
step run_net_moco 90 python3 tools/run_net.py --cfg configs/synthetic/contrastive_ssl/MoCo_R10.yaml NUM_GPUS 1 \
  SOLVER.MAX_EPOCH 1 TRAIN.ITERS_PER_EPOCH 5 TRAIN.MIXED_PRECISION True TRAIN.MIXED_PRECISION_DTYPE bfloat16 \
  TRAIN.EVAL_PERIOD 100 OUTPUT_DIR "$(mktemp -d /tmp/videossl-gpu-moco-XXXX)"
step mfu_mae_st 90 python3 benchmarks/bench_mae_mfu.py
step mfu_videomae 90 python3 benchmarks/bench_mae_mfu.py --cfg configs/masked_ssl/videomae/k400_VIT_B_16x4_PT.yaml
step pipeline_moco 240 python3 benchmarks/bench_pipeline.py
step train_step 60 python3 benchmarks/bench_train_step.py --amp --blocks 30
