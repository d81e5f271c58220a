"""Tiny ViT / MViT and MAE config overrides (`load_config(opts=...)` lists), shared by the tests."""


def vit_opts(**extra):
    opts = {
        "TASK": "supervised", "MODEL.ARCH": "mvit", "MODEL.MODEL_NAME": "MViT", "MODEL.NUM_CLASSES": 5,
        "MVIT.EMBED_DIM": 64, "MVIT.NUM_HEADS": 2, "MVIT.DEPTH": 2, "MVIT.PATCH_KERNEL": "[2, 16, 16]",
        "MVIT.PATCH_STRIDE": "[2, 16, 16]", "MVIT.PATCH_PADDING": "[0, 0, 0]", "MVIT.SEP_POS_EMBED": True,
        "MVIT.USE_MEAN_POOLING": True, "MVIT.HEAD_INIT_SCALE": 0.001, "MVIT.DROPPATH_RATE": 0.1,
        "DATA.NUM_FRAMES": 4, "DATA.TRAIN_CROP_SIZE": 32, "DATA.TEST_CROP_SIZE": 32,
        "DATA.INPUT_CHANNEL_NUM": "[3]", "NUM_GPUS": 1,
    }
    opts.update(extra)
    return [str(x) for kv in opts.items() for x in kv]


def mae_opts(**extra):
    opts = {
        "TASK": "pretrain", "SSL.METHOD": "mae", "MODEL.ARCH": "vit",
        "MVIT.EMBED_DIM": 64, "MVIT.NUM_HEADS": 2, "MVIT.DEPTH": 2, "MVIT.PATCH_KERNEL": "[2, 8, 8]",
        "MVIT.PATCH_STRIDE": "[2, 8, 8]", "MVIT.PATCH_PADDING": "[0, 0, 0]", "MVIT.SEP_POS_EMBED": True,
        "MVIT.DROPPATH_RATE": 0.0, "MASK.PRETRAIN_DEPTH": "[1]", "MASK.HEAD_TYPE": "separate_xformer",
        "MASK.DECODER_DEPTH": 1, "MASK.DECODER_EMBED_DIM": 32, "AUG.MASK_RATIO": 0.75,
        "DATA.NUM_FRAMES": 4, "DATA.TRAIN_CROP_SIZE": 32, "DATA.TEST_CROP_SIZE": 32,
        "DATA.INPUT_CHANNEL_NUM": "[3]", "NUM_GPUS": 1,
    }
    opts.update(extra)
    return [str(x) for kv in opts.items() for x in kv]


VIDEOMAE_OPTS = {"MVIT.SEP_POS_EMBED": False, "MVIT.USE_FIXED_SINCOS_POS": True, "MVIT.CLS_EMBED_ON": False,
                 "AUG.MASK_TUBE": True, "MASK.TIME_STRIDE_LOSS": False, "MASK.NORM_PIX_PER_CHANNEL": True,
                 "MVIT.USE_MEAN_POOLING": True}
