"""Code agreement between ViCC views: how often the Sinkhorn code (argmax) of RGB view 0 equals that of RGB view 1
and of the flow views 2 / 3 of the same video, at the start and the end of a cross stage of the synthetic study.

    python scripts/vicc_code_agreement.py output/vicc_study/seed0
"""
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from videossl.config import load_config  # noqa: E402
from videossl.data import build_dataset  # noqa: E402
from videossl.data.collate import collate_batch  # noqa: E402
from videossl.engine.tasks import get_task  # noqa: E402
from videossl.engine.weights import initialise  # noqa: E402
from videossl.methods.registry import build_method  # noqa: E402
from videossl.methods.sinkhorn import sinkhorn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

R = sys.argv[1] if len(sys.argv) > 1 else "output/vicc_study/seed0"
cfg = load_config([os.path.join(ROOT, "configs/synthetic/vicc/ViCC_cross_R10.yaml")],
                  ["RNG_SEED", "0", "DATA_LOADER.NUM_WORKERS", "0"])
ds = build_dataset(cfg, "train")
batches = [collate_batch([ds[(0, i)] for i in range(s, s + 48)]) for s in range(0, 192, 48)]

def agreement(ckpts):
    torch.manual_seed(0)
    m = build_method(cfg)
    initialise(m, ckpts, get_task("pretrain"))
    m.eval()
    hits = {"0-1": 0, "0-2": 0, "0-3": 0, "2-3": 0}; n = 0
    with torch.no_grad():
        w = F.normalize(m.swav_prototypes.weight, dim=1)
        for b in batches:
            emb = m.view_embeddings(b)
            codes = [sinkhorn(e @ w.t(), 0.05, 3).argmax(1) for e in emb]
            for k in hits:
                i, j = map(int, k.split("-")); hits[k] += int((codes[i] == codes[j]).sum())
            n += len(codes[0])
    return {k: round(100 * v / n, 1) for k, v in hits.items()}

print("start of the cross stage (single RGB + single flow):",
      agreement({"query": f"{R}/single_rgb/checkpoints/ssl_checkpoint_epoch_00080.pyth",
                 "second": f"{R}/single_flow/checkpoints/ssl_checkpoint_epoch_00080.pyth"}))
print("end of the cross stage:", agreement({"query": f"{R}/cross_rgb_1/checkpoints/ssl_checkpoint_epoch_00040.pyth"}))
print("chance: 1/32 = 3.1")
