"""The videossl config tree.

Key names follow PySlowFast's ``slowfast/config/defaults.py`` wherever the
concept exists there, so a PySlowFast YAML reads the same here.  Keys that
PySlowFast has but videossl does not implement are still present (so such a
YAML merges), and are listed in :mod:`videossl.config.unsupported`: they are
accepted only while they hold PySlowFast's default value.

Keys that are ours (no PySlowFast equivalent) are marked ``# videossl``.
Per-area extensions live in ``keys_*.py`` beside this file and are added by
:func:`get_cfg` so that each area owns its keys.
"""

import math

from fvcore.common.config import CfgNode

_C = CfgNode()

# ---------------------------------------------------------------------------
# Top level
# ---------------------------------------------------------------------------
# PySlowFast: "" (supervised), "ssl", "ssl_eval*".  videossl canonical values:
# "supervised", "pretrain", "linear", "finetune" (compat.py maps the others).
_C.TASK = ""
_C.NUM_GPUS = 1  # processes per machine (GPUs; on a CPU machine, gloo processes)
_C.NUM_SHARDS = 1  # machines
_C.SHARD_ID = 0
_C.OUTPUT_DIR = "."
_C.RNG_SEED = 1
_C.LOG_PERIOD = 10
_C.LOG_MODEL_INFO = True
_C.DIST_BACKEND = "nccl"  # "nccl" falls back to "gloo" when CUDA is absent

# ---------------------------------------------------------------------------
# SSL method (videossl).  PySlowFast spells it MODEL.MODEL_NAME +
# CONTRASTIVE.TYPE / MASK.MAE_ON; compat.py maps those here.
# ---------------------------------------------------------------------------
_C.SSL = CfgNode()
_C.SSL.METHOD = ""  # "" = derived from TASK/MODEL_NAME; supervised|moco|byol|simclr|swav|mae|...

# ---------------------------------------------------------------------------
# CONTRASTIVE (PySlowFast)
# ---------------------------------------------------------------------------
_C.CONTRASTIVE = CfgNode()
_C.CONTRASTIVE.T = 0.07
_C.CONTRASTIVE.DIM = 128
_C.CONTRASTIVE.LENGTH = 239975
_C.CONTRASTIVE.QUEUE_LEN = 65536
_C.CONTRASTIVE.MOMENTUM = 0.5
_C.CONTRASTIVE.MOMENTUM_ANNEALING = False
_C.CONTRASTIVE.TYPE = "mem"
_C.CONTRASTIVE.INTERP_MEMORY = False
_C.CONTRASTIVE.MEM_TYPE = "1d"
_C.CONTRASTIVE.NUM_CLASSES_DOWNSTREAM = 400
_C.CONTRASTIVE.NUM_MLP_LAYERS = 1
_C.CONTRASTIVE.MLP_DIM = 2048
_C.CONTRASTIVE.BN_MLP = False
_C.CONTRASTIVE.BN_SYNC_MLP = False
_C.CONTRASTIVE.LOCAL_SHUFFLE_BN = True
_C.CONTRASTIVE.MOCO_MULTI_VIEW_QUEUE = False
_C.CONTRASTIVE.DELTA_CLIPS_MIN = -math.inf
_C.CONTRASTIVE.DELTA_CLIPS_MAX = math.inf
_C.CONTRASTIVE.PREDICTOR_DEPTHS = []
_C.CONTRASTIVE.SEQUENTIAL = False
_C.CONTRASTIVE.SIMCLR_DIST_ON = True
_C.CONTRASTIVE.SWAV_QEUE_LEN = 0
_C.CONTRASTIVE.KNN_ON = True

# ---------------------------------------------------------------------------
# BN
# ---------------------------------------------------------------------------
_C.BN = CfgNode()
_C.BN.USE_PRECISE_STATS = False
_C.BN.NUM_BATCHES_PRECISE = 200
_C.BN.WEIGHT_DECAY = 0.0
_C.BN.NORM_TYPE = "batchnorm"  # batchnorm | sync_batchnorm (| sub_batchnorm, sync_batchnorm_apex: unsupported)
_C.BN.NUM_SPLITS = 1
_C.BN.NUM_SYNC_DEVICES = 1
_C.BN.GLOBAL_SYNC = False

# ---------------------------------------------------------------------------
# TRAIN
# ---------------------------------------------------------------------------
_C.TRAIN = CfgNode()
_C.TRAIN.ENABLE = True
_C.TRAIN.KILL_LOSS_EXPLOSION_FACTOR = 0.0
_C.TRAIN.DATASET = "kinetics"
_C.TRAIN.BATCH_SIZE = 64  # per machine, split over its NUM_GPUS processes
_C.TRAIN.EVAL_PERIOD = 10
_C.TRAIN.CHECKPOINT_PERIOD = 10
_C.TRAIN.AUTO_RESUME = True
_C.TRAIN.CHECKPOINT_FILE_PATH = ""
_C.TRAIN.CHECKPOINT_TYPE = "pytorch"
_C.TRAIN.CHECKPOINT_INFLATE = False
_C.TRAIN.CHECKPOINT_EPOCH_RESET = False
_C.TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN = ()
_C.TRAIN.MIXED_PRECISION = False
_C.TRAIN.CHECKPOINT_IN_INIT = False
_C.TRAIN.MIXED_PRECISION_DTYPE = "float16"  # videossl: float16 | bfloat16
_C.TRAIN.CHECKPOINT_ITER_PERIOD = 0  # videossl: also checkpoint every N iterations (0: off)
# videossl: keep only the newest N epoch checkpoints (0: keep all, as PySlowFast). Keep 2 or more so that a
# corrupt newest file can fall back to the previous one.
_C.TRAIN.CHECKPOINT_KEEP_LAST = 0
_C.TRAIN.ITERS_PER_EPOCH = 0  # videossl: cap iterations per epoch (0: the whole loader)

# ---------------------------------------------------------------------------
# AUG (PySlowFast; RandAugment, random erasing, repeated aug, masks)
# ---------------------------------------------------------------------------
_C.AUG = CfgNode()
_C.AUG.ENABLE = False
_C.AUG.NUM_SAMPLE = 1
_C.AUG.COLOR_JITTER = 0.4
_C.AUG.AA_TYPE = "rand-m9-mstd0.5-inc1"
_C.AUG.INTERPOLATION = "bicubic"
_C.AUG.RE_PROB = 0.25
_C.AUG.RE_MODE = "pixel"
_C.AUG.RE_COUNT = 1
_C.AUG.RE_SPLIT = False
_C.AUG.GEN_MASK_LOADER = False
_C.AUG.MASK_TUBE = False
_C.AUG.MASK_FRAMES = False
_C.AUG.MASK_WINDOW_SIZE = [8, 7, 7]
_C.AUG.MASK_RATIO = 0.0
_C.AUG.MAX_MASK_PATCHES_PER_BLOCK = None

_C.VIS_MASK = CfgNode()
_C.VIS_MASK.ENABLE = False

_C.MIXUP = CfgNode()
_C.MIXUP.ENABLE = False
_C.MIXUP.ALPHA = 0.8
_C.MIXUP.CUTMIX_ALPHA = 1.0
_C.MIXUP.PROB = 1.0
_C.MIXUP.SWITCH_PROB = 0.5
_C.MIXUP.LABEL_SMOOTH_VALUE = 0.1

# ---------------------------------------------------------------------------
# TEST
# ---------------------------------------------------------------------------
_C.TEST = CfgNode()
_C.TEST.ENABLE = True
_C.TEST.DATASET = "kinetics"
_C.TEST.BATCH_SIZE = 8
_C.TEST.CHECKPOINT_FILE_PATH = ""
_C.TEST.NUM_ENSEMBLE_VIEWS = 10
_C.TEST.NUM_SPATIAL_CROPS = 3
_C.TEST.CHECKPOINT_TYPE = "pytorch"
_C.TEST.SAVE_RESULTS_PATH = ""
_C.TEST.NUM_TEMPORAL_CLIPS = []
_C.TEST.EVALUATOR = "topk"  # videossl: topk | retrieval | knn (| ava_map)

# ---------------------------------------------------------------------------
# Backbones
# ---------------------------------------------------------------------------
_C.RESNET = CfgNode()
_C.RESNET.TRANS_FUNC = "bottleneck_transform"
_C.RESNET.NUM_GROUPS = 1
_C.RESNET.WIDTH_PER_GROUP = 64
_C.RESNET.INPLACE_RELU = True
_C.RESNET.STRIDE_1X1 = False
_C.RESNET.ZERO_INIT_FINAL_BN = False
_C.RESNET.ZERO_INIT_FINAL_CONV = False
_C.RESNET.DEPTH = 50
_C.RESNET.NUM_BLOCK_TEMP_KERNEL = [[3], [4], [6], [3]]
_C.RESNET.SPATIAL_STRIDES = [[1], [2], [2], [2]]
_C.RESNET.SPATIAL_DILATIONS = [[1], [1], [1], [1]]

_C.X3D = CfgNode()
_C.X3D.WIDTH_FACTOR = 1.0
_C.X3D.DEPTH_FACTOR = 1.0
_C.X3D.BOTTLENECK_FACTOR = 1.0
_C.X3D.DIM_C5 = 2048
_C.X3D.DIM_C1 = 12
_C.X3D.SCALE_RES2 = False
_C.X3D.BN_LIN5 = False
_C.X3D.CHANNELWISE_3x3x3 = True

_C.NONLOCAL = CfgNode()
_C.NONLOCAL.LOCATION = [[[]], [[]], [[]], [[]]]
_C.NONLOCAL.GROUP = [[1], [1], [1], [1]]
_C.NONLOCAL.INSTANTIATION = "dot_product"
_C.NONLOCAL.POOL = [[[1, 2, 2], [1, 2, 2]]] * 4

_C.MODEL = CfgNode()
_C.MODEL.ARCH = "slowfast"
_C.MODEL.MODEL_NAME = "SlowFast"
_C.MODEL.NUM_CLASSES = 400
_C.MODEL.LOSS_FUNC = "cross_entropy"
_C.MODEL.SINGLE_PATHWAY_ARCH = ["2d", "c2d", "i3d", "slow", "x3d", "mvit", "maskmvit"]
_C.MODEL.MULTI_PATHWAY_ARCH = ["slowfast"]
_C.MODEL.DROPOUT_RATE = 0.5
_C.MODEL.DROPCONNECT_RATE = 0.0
_C.MODEL.FC_INIT_STD = 0.01
_C.MODEL.HEAD_ACT = "softmax"
_C.MODEL.ACT_CHECKPOINT = False
_C.MODEL.DETACH_FINAL_FC = False
_C.MODEL.FROZEN_BN = False
_C.MODEL.FP16_ALLREDUCE = False

_C.MVIT = CfgNode()
_C.MVIT.MODE = "conv"
_C.MVIT.POOL_FIRST = False
_C.MVIT.CLS_EMBED_ON = True
_C.MVIT.PATCH_KERNEL = [3, 7, 7]
_C.MVIT.PATCH_STRIDE = [2, 4, 4]
_C.MVIT.PATCH_PADDING = [2, 4, 4]
_C.MVIT.PATCH_2D = False
_C.MVIT.EMBED_DIM = 96
_C.MVIT.NUM_HEADS = 1
_C.MVIT.MLP_RATIO = 4.0
_C.MVIT.QKV_BIAS = True
_C.MVIT.DROPPATH_RATE = 0.1
_C.MVIT.LAYER_SCALE_INIT_VALUE = 0.0
_C.MVIT.DEPTH = 16
_C.MVIT.NORM = "layernorm"
_C.MVIT.DIM_MUL = []
_C.MVIT.HEAD_MUL = []
_C.MVIT.POOL_KV_STRIDE = []
_C.MVIT.POOL_KV_STRIDE_ADAPTIVE = None
_C.MVIT.POOL_Q_STRIDE = []
_C.MVIT.POOL_KVQ_KERNEL = None
_C.MVIT.ZERO_DECAY_POS_CLS = True
_C.MVIT.NORM_STEM = False
_C.MVIT.SEP_POS_EMBED = False
_C.MVIT.DROPOUT_RATE = 0.0
_C.MVIT.USE_ABS_POS = True
_C.MVIT.REL_POS_SPATIAL = False
_C.MVIT.REL_POS_TEMPORAL = False
_C.MVIT.REL_POS_ZERO_INIT = False
_C.MVIT.RESIDUAL_POOLING = False
_C.MVIT.DIM_MUL_IN_ATT = False
_C.MVIT.SEPARATE_QKV = False
_C.MVIT.HEAD_INIT_SCALE = 1.0
_C.MVIT.USE_MEAN_POOLING = False
_C.MVIT.USE_FIXED_SINCOS_POS = False
_C.MVIT.REV = CfgNode()
_C.MVIT.REV.ENABLE = False
_C.MVIT.REV.RESPATH_FUSE = "concat"
_C.MVIT.REV.BUFFER_LAYERS = []
_C.MVIT.REV.RES_PATH = "conv"
_C.MVIT.REV.PRE_Q_FUSION = "avg"

_C.MASK = CfgNode()
_C.MASK.ENABLE = False
_C.MASK.MAE_ON = False
_C.MASK.MAE_RND_MASK = False
_C.MASK.PER_FRAME_MASKING = False
_C.MASK.TIME_STRIDE_LOSS = True
_C.MASK.NORM_PRED_PIXEL = True
_C.MASK.SCALE_INIT_BY_DEPTH = False
_C.MASK.DECODER_EMBED_DIM = 512
_C.MASK.DECODER_SEP_POS_EMBED = False
_C.MASK.DEC_KV_KERNEL = []
_C.MASK.DEC_KV_STRIDE = []
_C.MASK.PRETRAIN_DEPTH = [15]
_C.MASK.HEAD_TYPE = "separate"
_C.MASK.DECODER_DEPTH = 0
_C.MASK.PRED_HOG = False

_C.SLOWFAST = CfgNode()
_C.SLOWFAST.BETA_INV = 8
_C.SLOWFAST.ALPHA = 8
_C.SLOWFAST.FUSION_CONV_CHANNEL_RATIO = 2
_C.SLOWFAST.FUSION_KERNEL_SZ = 5

# ---------------------------------------------------------------------------
# DATA
# ---------------------------------------------------------------------------
_C.DATA = CfgNode()
_C.DATA.PATH_TO_DATA_DIR = ""
_C.DATA.PATH_LABEL_SEPARATOR = " "
_C.DATA.PATH_PREFIX = ""
_C.DATA.NUM_FRAMES = 8
_C.DATA.SAMPLING_RATE = 8
_C.DATA.TRAIN_PCA_EIGVAL = [0.225, 0.224, 0.229]
_C.DATA.TRAIN_PCA_EIGVEC = [
    [-0.5675, 0.7192, 0.4009],
    [-0.5808, -0.0045, -0.8140],
    [-0.5836, -0.6948, 0.4203],
]
_C.DATA.PATH_TO_PRELOAD_IMDB = ""
_C.DATA.MEAN = [0.45, 0.45, 0.45]
_C.DATA.INPUT_CHANNEL_NUM = [3, 3]
_C.DATA.STD = [0.225, 0.225, 0.225]
_C.DATA.TRAIN_JITTER_SCALES = [256, 320]
_C.DATA.TRAIN_JITTER_SCALES_RELATIVE = []
_C.DATA.TRAIN_JITTER_ASPECT_RELATIVE = []
_C.DATA.USE_OFFSET_SAMPLING = False
_C.DATA.TRAIN_JITTER_MOTION_SHIFT = False
_C.DATA.TRAIN_CROP_SIZE = 224
_C.DATA.TEST_CROP_SIZE = 256
_C.DATA.TARGET_FPS = 30
_C.DATA.TRAIN_JITTER_FPS = 0.0
_C.DATA.DECODING_BACKEND = "pyav"  # videossl: pyav | torchcodec ("torchvision" maps to pyav)
_C.DATA.DECODING_SHORT_SIZE = 256
_C.DATA.INV_UNIFORM_SAMPLE = False
_C.DATA.RANDOM_FLIP = True
_C.DATA.MULTI_LABEL = False
_C.DATA.ENSEMBLE_METHOD = "sum"
_C.DATA.REVERSE_INPUT_CHANNEL = False
_C.DATA.TRAIN_CROP_NUM_TEMPORAL = 1
_C.DATA.TRAIN_CROP_NUM_SPATIAL = 1
_C.DATA.COLOR_RND_GRAYSCALE = 0.0
_C.DATA.LOADER_CHUNK_SIZE = 0
_C.DATA.LOADER_CHUNK_OVERALL_SIZE = 0
_C.DATA.SKIP_ROWS = 0
_C.DATA.TIME_DIFF_PROB = 0.0
_C.DATA.SSL_COLOR_JITTER = False
_C.DATA.SSL_COLOR_BRI_CON_SAT = [0.4, 0.4, 0.4]
_C.DATA.SSL_COLOR_HUE = 0.1
_C.DATA.SSL_MOCOV2_AUG = False
_C.DATA.SSL_BLUR_SIGMA_MIN = [0.0, 0.1]
_C.DATA.SSL_BLUR_SIGMA_MAX = [0.0, 2.0]
_C.DATA.IN22K_TRAINVAL = False
_C.DATA.IN22k_VAL_IN1K = ""
_C.DATA.IN_VAL_CROP_RATIO = 0.875
_C.DATA.DUMMY_LOAD = False
_C.DATA.SPLIT = 1  # videossl: UCF101/HMDB51 official split (1-3)
_C.DATA.USE_FLOW = False  # videossl: also load optical flow views (CoCLR encoding)

# ---------------------------------------------------------------------------
# Built-in synthetic dataset (videossl): generated once into SYNTHETIC.ROOT.
# ---------------------------------------------------------------------------
_C.SYNTHETIC = CfgNode()
_C.SYNTHETIC.ROOT = ""  # "" -> $VIDEOSSL_CACHE or ~/.cache/videossl, keyed by the settings
_C.SYNTHETIC.NUM_CLASSES = 8
_C.SYNTHETIC.TRAIN_PER_CLASS = 24
_C.SYNTHETIC.TEST_PER_CLASS = 8
_C.SYNTHETIC.NUM_FRAMES = 32
_C.SYNTHETIC.SIZE = 64
_C.SYNTHETIC.SEED = 0
_C.SYNTHETIC.FPS = 30
_C.SYNTHETIC.WRITE_FLOW = False
_C.SYNTHETIC.BACKGROUND_TEXTURE = 1.0  # scale of the background gratings; 0 = plain backgrounds
_C.SYNTHETIC.COLOUR_VARIATION = 1.0  # 1 = random colours per video; 0 = the same grey pair in every video
_C.SYNTHETIC.SENSOR_NOISE = 0.012  # std of the i.i.d. grey pixel noise ([0, 1] units); 0 = none
# Uneven static lighting: intensity x (1 + g * d / SIZE), d the signed distance from the centre along a
# per-video direction; 0 = even lighting (every flat region stays flat)
_C.SYNTHETIC.ILLUMINATION_GRADIENT = 0.0
# The object lights its surroundings: every background pixel gains OBJECT_GLOW * max(0, 1 - d / (sqrt(2) SIZE)),
# d its distance from the object's centre in that frame; 0 = no glow
_C.SYNTHETIC.OBJECT_GLOW = 0.0

# ---------------------------------------------------------------------------
# SOLVER
# ---------------------------------------------------------------------------
_C.SOLVER = CfgNode()
_C.SOLVER.BASE_LR = 0.1
_C.SOLVER.LR_POLICY = "cosine"  # cosine | steps_with_relative_lrs | constant
_C.SOLVER.COSINE_END_LR = 0.0
_C.SOLVER.GAMMA = 0.1
_C.SOLVER.STEP_SIZE = 1
_C.SOLVER.STEPS = []
_C.SOLVER.LRS = []
_C.SOLVER.MAX_EPOCH = 300
_C.SOLVER.MOMENTUM = 0.9
_C.SOLVER.DAMPENING = 0.0
_C.SOLVER.NESTEROV = True
_C.SOLVER.WEIGHT_DECAY = 1e-4
_C.SOLVER.WARMUP_FACTOR = 0.1
_C.SOLVER.WARMUP_EPOCHS = 0.0
_C.SOLVER.WARMUP_START_LR = 0.01
_C.SOLVER.OPTIMIZING_METHOD = "sgd"  # sgd | adam | adamw
_C.SOLVER.BASE_LR_SCALE_NUM_SHARDS = False
_C.SOLVER.COSINE_AFTER_WARMUP = False
_C.SOLVER.ZERO_WD_1D_PARAM = False
_C.SOLVER.CLIP_GRAD_VAL = None
_C.SOLVER.CLIP_GRAD_L2NORM = None
_C.SOLVER.LARS_ON = False
_C.SOLVER.LAYER_DECAY = 1.0
_C.SOLVER.BETAS = (0.9, 0.999)

# ---------------------------------------------------------------------------
# Misc PySlowFast nodes
# ---------------------------------------------------------------------------
_C.BENCHMARK = CfgNode()
_C.BENCHMARK.NUM_EPOCHS = 5
_C.BENCHMARK.LOG_PERIOD = 100
_C.BENCHMARK.SHUFFLE = True

_C.DATA_LOADER = CfgNode()
_C.DATA_LOADER.NUM_WORKERS = 8
_C.DATA_LOADER.PIN_MEMORY = True
_C.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE = False
_C.DATA_LOADER.MAX_RETRIES = 10  # videossl: other indices tried when a video fails
_C.DATA_LOADER.MAX_FAILED_FRACTION = 0.5  # videossl: stop if more of an epoch's videos fail

_C.DETECTION = CfgNode()
_C.DETECTION.ENABLE = False
_C.DETECTION.ALIGNED = True
_C.DETECTION.SPATIAL_SCALE_FACTOR = 16
_C.DETECTION.ROI_XFORM_RESOLUTION = 7

_C.AVA = CfgNode()
_C.AVA.FRAME_DIR = "/mnt/fair-flash3-east/ava_trainval_frames.img/"
_C.AVA.FRAME_LIST_DIR = "/mnt/vol/gfsai-flash3-east/ai-group/users/haoqifan/ava/frame_list/"
_C.AVA.ANNOTATION_DIR = "/mnt/vol/gfsai-flash3-east/ai-group/users/haoqifan/ava/frame_list/"
_C.AVA.TRAIN_LISTS = ["train.csv"]
_C.AVA.TEST_LISTS = ["val.csv"]
_C.AVA.TRAIN_GT_BOX_LISTS = ["ava_train_v2.2.csv"]
_C.AVA.TRAIN_PREDICT_BOX_LISTS = []
_C.AVA.TEST_PREDICT_BOX_LISTS = ["ava_val_predicted_boxes.csv"]
_C.AVA.DETECTION_SCORE_THRESH = 0.9
_C.AVA.BGR = False
_C.AVA.TRAIN_USE_COLOR_AUGMENTATION = False
_C.AVA.TRAIN_PCA_JITTER_ONLY = True
_C.AVA.TEST_FORCE_FLIP = False
_C.AVA.FULL_TEST_ON_VAL = False
_C.AVA.LABEL_MAP_FILE = "ava_action_list_v2.2_for_activitynet_2019.pbtxt"
_C.AVA.EXCLUSION_FILE = "ava_val_excluded_timestamps_v2.2.csv"
_C.AVA.GROUNDTRUTH_FILE = "ava_val_v2.2.csv"
_C.AVA.IMG_PROC_BACKEND = "cv2"

_C.MULTIGRID = CfgNode()
_C.MULTIGRID.EPOCH_FACTOR = 1.5
_C.MULTIGRID.SHORT_CYCLE = False
_C.MULTIGRID.SHORT_CYCLE_FACTORS = [0.5, 0.5**0.5]
_C.MULTIGRID.LONG_CYCLE = False
_C.MULTIGRID.LONG_CYCLE_FACTORS = [(0.25, 0.5**0.5), (0.5, 0.5**0.5), (0.5, 1), (1, 1)]
_C.MULTIGRID.BN_BASE_SIZE = 8
_C.MULTIGRID.EVAL_FREQ = 3
_C.MULTIGRID.LONG_CYCLE_SAMPLING_RATE = 0
_C.MULTIGRID.DEFAULT_B = 0
_C.MULTIGRID.DEFAULT_T = 0
_C.MULTIGRID.DEFAULT_S = 0

_C.TENSORBOARD = CfgNode()
_C.TENSORBOARD.ENABLE = False
_C.TENSORBOARD.PREDICTIONS_PATH = ""
_C.TENSORBOARD.LOG_DIR = ""
_C.TENSORBOARD.CLASS_NAMES_PATH = ""
_C.TENSORBOARD.CATEGORIES_PATH = ""
_C.TENSORBOARD.CONFUSION_MATRIX = CfgNode()
_C.TENSORBOARD.CONFUSION_MATRIX.ENABLE = False
_C.TENSORBOARD.CONFUSION_MATRIX.FIGSIZE = [8, 8]
_C.TENSORBOARD.CONFUSION_MATRIX.SUBSET_PATH = ""
_C.TENSORBOARD.HISTOGRAM = CfgNode()
_C.TENSORBOARD.HISTOGRAM.ENABLE = False
_C.TENSORBOARD.HISTOGRAM.SUBSET_PATH = ""
_C.TENSORBOARD.HISTOGRAM.TOPK = 10
_C.TENSORBOARD.HISTOGRAM.FIGSIZE = [8, 8]
_C.TENSORBOARD.MODEL_VIS = CfgNode()
_C.TENSORBOARD.MODEL_VIS.ENABLE = False
_C.TENSORBOARD.MODEL_VIS.MODEL_WEIGHTS = False
_C.TENSORBOARD.MODEL_VIS.ACTIVATIONS = False
_C.TENSORBOARD.MODEL_VIS.INPUT_VIDEO = False
_C.TENSORBOARD.MODEL_VIS.LAYER_LIST = []
_C.TENSORBOARD.MODEL_VIS.TOPK_PREDS = 1
_C.TENSORBOARD.MODEL_VIS.COLORMAP = "Pastel2"
_C.TENSORBOARD.MODEL_VIS.GRAD_CAM = CfgNode()
_C.TENSORBOARD.MODEL_VIS.GRAD_CAM.ENABLE = True
_C.TENSORBOARD.MODEL_VIS.GRAD_CAM.LAYER_LIST = []
_C.TENSORBOARD.MODEL_VIS.GRAD_CAM.USE_TRUE_LABEL = False
_C.TENSORBOARD.MODEL_VIS.GRAD_CAM.COLORMAP = "viridis"
_C.TENSORBOARD.WRONG_PRED_VIS = CfgNode()
_C.TENSORBOARD.WRONG_PRED_VIS.ENABLE = False
_C.TENSORBOARD.WRONG_PRED_VIS.TAG = "Incorrectly classified videos."
_C.TENSORBOARD.WRONG_PRED_VIS.SUBSET_PATH = ""

_C.DEMO = CfgNode()
_C.DEMO.ENABLE = False
_C.DEMO.LABEL_FILE_PATH = ""
_C.DEMO.WEBCAM = -1
_C.DEMO.INPUT_VIDEO = ""
_C.DEMO.DISPLAY_WIDTH = 0
_C.DEMO.DISPLAY_HEIGHT = 0
_C.DEMO.DETECTRON2_CFG = "COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"
_C.DEMO.DETECTRON2_WEIGHTS = (
    "detectron2://COCO-Detection/faster_rcnn_R_50_FPN_3x/137849458/model_final_280758.pkl"
)
_C.DEMO.DETECTRON2_THRESH = 0.9
_C.DEMO.BUFFER_SIZE = 0
_C.DEMO.OUTPUT_FILE = ""
_C.DEMO.OUTPUT_FPS = -1
_C.DEMO.INPUT_FORMAT = "BGR"
_C.DEMO.CLIP_VIS_SIZE = 10
_C.DEMO.NUM_VIS_INSTANCES = 2
_C.DEMO.PREDS_BOXES = ""
_C.DEMO.THREAD_ENABLE = False
_C.DEMO.NUM_CLIPS_SKIP = 0
_C.DEMO.GT_BOXES = ""
_C.DEMO.STARTING_SECOND = 900
_C.DEMO.FPS = 30
_C.DEMO.VIS_MODE = "thres"
_C.DEMO.COMMON_CLASS_THRES = 0.7
_C.DEMO.UNCOMMON_CLASS_THRES = 0.3
_C.DEMO.COMMON_CLASS_NAMES = [
    "watch (a person)",
    "talk to (e.g., self, a person, a group)",
    "listen to (a person)",
    "touch (an object)",
    "carry/hold (an object)",
    "walk",
    "sit",
    "lie/sleep",
    "bend/bow (at the waist)",
]
_C.DEMO.SLOWMO = 1


def get_cfg() -> CfgNode:
    """A fresh, mutable copy of the full default tree (ours + per-area keys)."""
    from . import keys_data, keys_eval, keys_mae, keys_models, keys_ssl

    cfg = _C.clone()
    for area in (keys_data, keys_models, keys_ssl, keys_mae, keys_eval):
        area.add_keys(cfg)
    return cfg
