#!/bin/bash
# One SLURM task per node (started by slurm/videossl.sbatch through srun): this node is shard SLURM_NODEID
# of SLURM_NNODES and spawns NUM_GPUS processes: the GPUs SLURM gave the node, unless the arguments set
# NUM_GPUS. All arguments are passed to tools/run_net.py unchanged.
set -u
gpus=()
if [ -n "${SLURM_GPUS_ON_NODE:-}" ] && [[ " $* " != *" NUM_GPUS "* ]]; then gpus=(NUM_GPUS "$SLURM_GPUS_ON_NODE"); fi
exec "${PYTHON:-python}" "$VIDEOSSL_ROOT/tools/run_net.py" --shard_id "${SLURM_NODEID:-0}" \
    --num_shards "${SLURM_NNODES:-1}" --init_method "tcp://$MASTER_ADDR:$MASTER_PORT" "$@" "${gpus[@]}"
