#!/usr/bin/env bash
# Run HERE (where pip reaches a package index), before a device call: puts into .whl/ the wheels
# that the GPU machine's image lacks (its python3 is 3.12 with torch, timm, tensorboard, pytest;
# no PyAV, yacs, fvcore, iopath, termcolor). benchmarks/gpu_checks.sh installs them there;
# name .whl in the call's carry. numba is left out: llvmlite's wheel alone (60 MB) would push the
# carry past its 64 MiB, so the workers there use the torch colour kernels (DATA.FUSED_CPU_AUGMENT
# falls back), which makes the CPU-augmentation clips/s there a lower bound.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl av==18.1.0 yacs==0.1.8 termcolor==3.3.0
# fvcore and iopath are published as source only: build their (pure-Python) wheels
python3 -m pip wheel -q --no-deps -w .whl fvcore==0.1.5.post20221221 iopath==0.1.10
ls -l .whl
