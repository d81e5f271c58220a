"""PySlowFast's contrastive SSL configs: where its snapshot lives and their effective hyperparameters."""

SNAPSHOT = "/work/.mirror/facebookresearch+SlowFast/repo"

# PySlowFast configs/contrastive_ssl/*.yaml after "last duplicate wins" (references §2.7).
EFFECTIVE = {
    "MoCo_SlowR50_8x8": dict(method="moco", rho=4, T=0.1, dim=128, mlp=(3, 2048, False), pred=[],
                             mmt=0.994, queue=65536, seq=True, norm="batchnorm", lr=0.1, lars=False,
                             wd=1e-4, amp=True, jitter=[256, 320], ckpt=5),
    "BYOL_SlowR50_8x8": dict(method="byol", rho=2, T=0.5, dim=256, mlp=(2, 4096, True), pred=[2],
                             mmt=0.996, queue=65536, seq=True, norm="sync_batchnorm", lr=0.6, lars=True,
                             wd=1e-6, amp=False, jitter=[256, 320], ckpt=5),
    "SimCLR_SlowR50_8x8": dict(method="simclr", rho=2, T=0.1, dim=128, mlp=(3, 2048, False), pred=[],
                               mmt=0.5, queue=65536, seq=True, norm="sync_batchnorm", lr=1.2, lars=True,
                               wd=1e-6, amp=False, jitter=[224, 224], ckpt=10),
    "SwAV_Slow_R50_8x8": dict(method="swav", rho=2, T=0.1, dim=128, mlp=(3, 2048, True), pred=[],
                              mmt=0.5, queue=65536, seq=False, norm="sync_batchnorm", lr=0.6, lars=True,
                              wd=1e-6, amp=False, jitter=[224, 224], ckpt=10),
}

# PySlowFast's configs/Kinetics/c2/SLOW_8x8_R50.yaml (the config that tests its caffe2 Slow R50 checkpoint),
# as parsed YAML. When the snapshot exists, tests/test_pyslowfast_c2_config.py checks this against it.
SLOW_8x8_R50 = {
    "TRAIN": {"ENABLE": False, "DATASET": "kinetics", "BATCH_SIZE": 64, "EVAL_PERIOD": 10, "CHECKPOINT_PERIOD": 1,
              "AUTO_RESUME": True, "CHECKPOINT_TYPE": "caffe2"},
    "DATA": {"NUM_FRAMES": 8, "SAMPLING_RATE": 8, "TRAIN_JITTER_SCALES": [256, 320], "TRAIN_CROP_SIZE": 224,
             "TEST_CROP_SIZE": 256, "INPUT_CHANNEL_NUM": [3]},
    "RESNET": {"ZERO_INIT_FINAL_BN": True, "WIDTH_PER_GROUP": 64, "NUM_GROUPS": 1, "DEPTH": 50,
               "TRANS_FUNC": "bottleneck_transform", "STRIDE_1X1": False, "NUM_BLOCK_TEMP_KERNEL": [[3], [4], [6], [3]]},
    "NONLOCAL": {"LOCATION": [[[]], [[]], [[]], [[]]], "GROUP": [[1], [1], [1], [1]],
                 "INSTANTIATION": "dot_product"},
    "BN": {"USE_PRECISE_STATS": True, "NUM_BATCHES_PRECISE": 200},
    "SOLVER": {"BASE_LR": 0.1, "LR_POLICY": "cosine", "MAX_EPOCH": 196, "MOMENTUM": 0.9, "WEIGHT_DECAY": "1e-4",
               "WARMUP_EPOCHS": 34.0, "WARMUP_START_LR": 0.01, "OPTIMIZING_METHOD": "sgd"},
    "MODEL": {"NUM_CLASSES": 400, "ARCH": "slow", "MODEL_NAME": "ResNet", "LOSS_FUNC": "cross_entropy",
              "DROPOUT_RATE": 0.5},
    "TEST": {"ENABLE": True, "DATASET": "kinetics", "BATCH_SIZE": 64},
    "DATA_LOADER": {"NUM_WORKERS": 8, "PIN_MEMORY": True},
    "NUM_GPUS": 8, "NUM_SHARDS": 1, "RNG_SEED": 0, "OUTPUT_DIR": ".",
}
