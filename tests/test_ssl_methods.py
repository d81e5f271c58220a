"""MoCo / BYOL / SimCLR / SwAV: PySlowFast state-dict layout and step semantics on a tiny R10."""

import os

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_cfg_opts
from helpers.slow_reference import slow_nt_xent, slow_sinkhorn
from videossl.config import ConfigError, load_config
from videossl.methods import Progress, build_method
from videossl.methods.losses import moco_loss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DUMPS = "/work/shared/references/pyslowfast_keys"
B = 4


pytestmark = pytest.mark.usefixtures("float64")  # exact comparisons (conftest.float64)


def _cfg(method, **extra):
    opts = {"SSL.METHOD": method, "CONTRASTIVE.DIM": 8, "MODEL.NUM_CLASSES": 8,
            "CONTRASTIVE.MLP_DIM": 16, "CONTRASTIVE.NUM_MLP_LAYERS": 3,
            "DATA.TRAIN_CROP_NUM_TEMPORAL": 2, "CONTRASTIVE.QUEUE_LEN": 32, "TRAIN.BATCH_SIZE": B,
            "RESNET.NUM_BLOCK_TEMP_KERNEL": [[1], [1], [1], [1]]}  # R10: one block per stage
    if method == "byol":
        opts.update({"CONTRASTIVE.NUM_MLP_LAYERS": 2, "CONTRASTIVE.BN_MLP": True,
                     "CONTRASTIVE.PREDICTOR_DEPTHS": [2], "CONTRASTIVE.T": 0.5})
    if method == "swav":
        opts.update({"CONTRASTIVE.BN_MLP": True, "SSL.SWAV_NUM_PROTOTYPES": 5})
    opts.update(extra)
    return load_config([], tiny_cfg_opts(**opts))


def _build(method, seed=0, **extra):
    torch.manual_seed(seed)
    m = build_method(_cfg(method, **extra))
    m.train()
    return m


def _batch(rho, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {"views": [torch.randn(B, 3, 4, 32, 32, generator=g) for _ in range(rho)],
            "label": torch.zeros(B, dtype=torch.long), "index": torch.arange(B)}


def _grads(m):
    return {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}


def _zero(m):
    for p in m.parameters():
        p.grad = None


def _norm_proj(net, x):
    out = net(x)
    return F.normalize(out[0] if isinstance(out, list) else out, dim=1)


# --------------------------------------------------------------------------- state-dict layout
# Non-trunk keys of PySlowFast's ContrastiveModel (pyslowfast_keys/contrastive_*.txt) with shapes.
HEADS = {
    "MoCo_SlowR50_8x8": {
        "ptr": (1,), "queue_x": (65536, 128), "iter": (1,),
        **{f"{p}.head.projection.projection.{i}.{w}": s for p in ("backbone", "backbone_hist")
           for i, w, s in [(0, "weight", (2048, 2048)), (0, "bias", (2048,)), (2, "weight", (2048, 2048)),
                           (2, "bias", (2048,)), (4, "weight", (128, 2048)), (4, "bias", (128,))]},
    },
    "BYOL_SlowR50_8x8": {
        "ptr": (1,), "queue_x": (65536, 256), "iter": (1,),
        **{f"{p}.head.{h}.{i}.{w}": s for p in ("backbone", "backbone_hist")
           for h, d_in in [("projection.projection", 2048), ("predictors.0.projection", 256)]
           for i, w, s in [(0, "weight", (4096, d_in)), (1, "weight", (4096,)), (1, "bias", (4096,)),
                           (1, "running_mean", (4096,)), (1, "running_var", (4096,)),
                           (1, "num_batches_tracked", ()), (3, "weight", (256, 4096)), (3, "bias", (256,))]},
    },
    "SimCLR_SlowR50_8x8": {
        f"backbone.head.projection.projection.{i}.{w}": s
        for i, w, s in [(0, "weight", (2048, 2048)), (0, "bias", (2048,)), (2, "weight", (2048, 2048)),
                        (2, "bias", (2048,)), (4, "weight", (128, 2048)), (4, "bias", (128,))]
    },
    "SwAV_Slow_R50_8x8": {
        "swav_prototypes.weight": (1000, 128),
        **{f"backbone.head.projection.projection.{i}.{w}": s
           for i in (1, 4) for w, s in [("weight", (2048,)), ("bias", (2048,)), ("running_mean", (2048,)),
                                        ("running_var", (2048,)), ("num_batches_tracked", ())]},
        "backbone.head.projection.projection.0.weight": (2048, 2048),
        "backbone.head.projection.projection.3.weight": (2048, 2048),
        "backbone.head.projection.projection.6.weight": (128, 2048),
        "backbone.head.projection.projection.6.bias": (128,),
    },
}
R50_TRUNK_KEYS = 318  # Slow R50 state dict (320 keys) without head.projection.{weight,bias}


@pytest.mark.parametrize("name", sorted(HEADS))
def test_r50_state_dict_matches_pyslowfast(name):
    cfg = load_config([os.path.join(ROOT, "configs/Kinetics/contrastive_ssl", name + ".yaml")],
                      ["DATA.PATH_TO_DATA_DIR", "/x"])
    with torch.device("meta"):
        method = build_method(cfg)
    ours = {k: tuple(v.shape) for k, v in method.state_dict().items()}
    heads = {k: v for k, v in ours.items() if not k.split(".", 1)[-1].startswith("s")}
    assert heads == HEADS[name]
    for prefix in ("backbone.", "backbone_hist.") if "backbone_hist.head.projection.projection.0.weight" in ours \
            else ("backbone.",):
        trunk = [k for k in ours if k.startswith(prefix) and not k.startswith(prefix + "head.")]
        assert len(trunk) == R50_TRUNK_KEYS
    dump = os.path.join(DUMPS, "contrastive_" + name + ".txt")
    if os.path.isfile(dump):  # the full reference dump, where this checkout has it
        with open(dump) as f:
            lines = f.read().splitlines()[1:]
        ref = {ln.split(" ", 1)[0]: tuple(eval(ln.split(" ", 1)[1])) for ln in lines}
        ref.pop("knn_mem.memory")  # PySlowFast's online kNN memory is not kept
        assert ours == ref


def test_projection_width_must_agree_with_num_classes():
    with pytest.raises((ValueError, ConfigError), match="NUM_CLASSES"):
        build_method(_cfg("simclr", **{"MODEL.NUM_CLASSES": 4}))
    m = build_method(_cfg("simclr", **{"MODEL.NUM_CLASSES": 400}))  # default = unset
    assert m.backbone.head.projection.projection[-1].out_features == 8


def test_needs_two_clips_and_features_are_pooled_backbone():
    m = _build("simclr", **{"DATA.TRAIN_CROP_NUM_TEMPORAL": 1})
    with pytest.raises(ValueError, match="TRAIN_CROP_NUM_TEMPORAL"):
        m(_batch(1))
    m.eval()
    batch = _batch(2)
    assert m.features(batch).shape == (B, m.backbone.feature_dim)
    emb = m.embedding(batch)
    assert emb.shape == (B, 8)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(B))


# --------------------------------------------------------------------------- MoCo
def test_moco_sequential_step_semantics():
    rho, T = 3, 0.2
    m = _build("moco", **{"DATA.TRAIN_CROP_NUM_TEMPORAL": rho, "CONTRASTIVE.SEQUENTIAL": True,
                          "CONTRASTIVE.MOCO_MULTI_VIEW_QUEUE": True, "CONTRASTIVE.T": T})
    assert m.sequential
    batch = _batch(rho)
    m.on_step_start(Progress(0, 0, 0, 10, 2))
    queue0, ptr0 = m.queue_x.clone(), int(m.ptr)
    partial = []
    out = m.train_step(batch, lambda loss: (partial.append(loss.detach()), loss.backward()), forward=None)
    got = _grads(m)
    assert len(partial) == rho  # one backward per query clip
    # independent recomputation: query k against the keys of the other clips and the old queue
    _zero(m)
    with torch.no_grad():
        keys = [_norm_proj(m.backbone_hist, v) for v in batch["views"]]
    total = 0
    for k in range(rho):
        q = _norm_proj(m.backbone, batch["views"][k])
        rows = [torch.cat([(q * keys[i]).sum(1, keepdim=True), q @ queue0.t()], 1) for i in range(rho) if i != k]
        lk = F.cross_entropy(torch.cat(rows) / T, torch.zeros(B * (rho - 1), dtype=torch.long))
        assert lk.item() == pytest.approx(partial[k].item(), rel=1e-9)
        total = total + lk
    total.backward()
    assert out["loss"].item() == pytest.approx(total.item() / (2 * rho), rel=1e-9)
    want = _grads(m)
    assert got.keys() == want.keys() and not any(n.startswith("backbone_hist") for n in got)
    for n in want:
        torch.testing.assert_close(got[n], want[n], rtol=1e-9, atol=1e-12, msg=n)
    # all rho keys were enqueued after the step, in clip order
    assert int(m.ptr) == (ptr0 + rho * B) % 32
    torch.testing.assert_close(m.queue_x[:rho * B], torch.cat(keys), rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(m.queue_x[rho * B:], queue0[rho * B:])


def test_moco_forward_queries_clip0_and_enqueues_first_key_only():
    m = _build("moco", **{"DATA.TRAIN_CROP_NUM_TEMPORAL": 3})
    assert not m.sequential
    batch = _batch(3)
    m.on_step_start(Progress(0, 0, 0, 10, 2))
    queue0 = m.queue_x.clone()
    loss = m(batch)["loss"]
    with torch.no_grad():
        keys = _norm_proj(m.backbone_hist, torch.cat(batch["views"][1:])).split(B)  # one key forward
        q = _norm_proj(m.backbone, batch["views"][0])
    assert loss.item() == pytest.approx(moco_loss(q, list(keys), queue0, m.T).item(), rel=1e-9)
    torch.testing.assert_close(m.queue_x[:B], keys[0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(m.queue_x[B:], queue0[B:])
    assert int(m.ptr) == B


def test_moco_skips_optimizer_until_queue_is_full():
    m = _build("moco", **{"CONTRASTIVE.QUEUE_LEN": 32})  # 32 // global batch 4 = 8 iterations
    steps = [m.before_optimizer_step(Progress(0, i, i, 20, 2)) for i in range(10)]
    assert steps == [False] * 8 + [True] * 2
    assert m.before_optimizer_step(Progress(1, 0, 20, 20, 2))


def test_momentum_encoder_update():
    m = _build("moco", **{"CONTRASTIVE.MOMENTUM": 0.5, "CONTRASTIVE.MOMENTUM_ANNEALING": False})
    online = dict(m.backbone.named_parameters())
    m.on_step_start(Progress(0, 0, 0, 10, 4))  # iter 0: copy, then EMA of equal weights
    for n, p in m.backbone_hist.named_parameters():
        assert torch.equal(p, online[n]), n
    assert int(m.iter) == 1
    hist0 = {n: p.clone() for n, p in m.backbone_hist.named_parameters()}
    with torch.no_grad():
        for p in m.backbone.parameters():
            p.add_(1.0)
        m.backbone.s1.pathway0_stem.bn.running_mean.fill_(7.0)
    m.on_step_start(Progress(0, 1, 1, 10, 4))
    for n, p in m.backbone_hist.named_parameters():
        torch.testing.assert_close(p, 0.5 * hist0[n] + 0.5 * online[n], msg=n)
    assert torch.all(m.backbone_hist.s1.pathway0_stem.bn.running_mean == 0)  # buffers not copied
    # cosine annealing: m = 1 - (1 - m0)(cos(pi e / E) + 1) / 2; at e = E / 2 with m0 = 0.9 -> 0.95
    m = _build("moco", **{"CONTRASTIVE.MOMENTUM": 0.9, "CONTRASTIVE.MOMENTUM_ANNEALING": True})
    m.on_step_start(Progress(0, 0, 0, 10, 4))
    hist0 = {n: p.clone() for n, p in m.backbone_hist.named_parameters()}
    with torch.no_grad():
        for p in m.backbone.parameters():
            p.add_(1.0)
    m.on_step_start(Progress(2, 0, 20, 10, 4))
    assert m.mmt == pytest.approx(0.95)
    n, p = next(iter(m.backbone_hist.named_parameters()))
    torch.testing.assert_close(p, 0.95 * hist0[n] + 0.05 * dict(m.backbone.named_parameters())[n])


def test_moco_rank_state_roundtrip():
    m = _build("moco")
    m(_batch(2))
    state = m.rank_state_dict()
    other = _build("moco", seed=5)
    assert not torch.equal(other.queue_x, m.queue_x)
    other.load_rank_state_dict(state)
    assert torch.equal(other.queue_x, m.queue_x) and torch.equal(other.ptr, m.ptr)


# --------------------------------------------------------------------------- BYOL
def test_byol_sequential_rho2_is_the_symmetric_loss():
    m = _build("byol")
    m.eval()  # BN from running statistics: every path sees identical features
    batch = _batch(2)
    out = m(batch)
    out["loss"].backward()
    sym = _grads(m)
    _zero(m)
    m.sequential = True
    seq = m.train_step(batch, lambda loss: loss.backward(), forward=None)
    assert seq["loss"].item() == pytest.approx(out["loss"].item() / 4, rel=1e-9)  # sum / (2 rho)
    got = _grads(m)
    assert got.keys() == sym.keys() and any("predictors" in n for n in got)
    for n in sym:
        torch.testing.assert_close(got[n], sym[n], rtol=1e-9, atol=1e-12, msg=n)
    # the value: -mean(p . z) / T with p the online prediction, z the target projection
    with torch.no_grad():
        p = [F.normalize(m.backbone(v)[1], dim=1) for v in batch["views"]]
        z = [_norm_proj(m.backbone_hist, v) for v in batch["views"]]
    expected = -((p[0] * z[1]).sum(1).mean() + (p[1] * z[0]).sum(1).mean()) / 0.5
    assert out["loss"].item() == pytest.approx(expected.item(), rel=1e-9)


def test_byol_requires_a_predictor():
    with pytest.raises(ValueError, match="PREDICTOR_DEPTHS"):
        build_method(_cfg("byol", **{"CONTRASTIVE.PREDICTOR_DEPTHS": []}))


# --------------------------------------------------------------------------- SimCLR
def test_simclr_sequential_uses_consecutive_pairs():
    m = _build("simclr", **{"DATA.TRAIN_CROP_NUM_TEMPORAL": 4, "CONTRASTIVE.SEQUENTIAL": True,
                            "CONTRASTIVE.T": 0.1})
    m.eval()
    batch = _batch(4)
    calls = []
    out = m.train_step(batch, lambda loss: (calls.append(1), loss.backward()), forward=None)
    assert len(calls) == 3  # pairs (0,1), (1,2), (2,3): not all 6
    with torch.no_grad():
        z = [_norm_proj(m.backbone, v).double() for v in batch["views"]]
    expected = sum(slow_nt_xent(z[k], z[k + 1], 0.1) for k in range(3)) / 8
    assert out["loss"].item() == pytest.approx(expected, rel=1e-9)
    assert m(batch)["loss"].item() == pytest.approx(slow_nt_xent(z[0], z[1], 0.1), rel=1e-9)


# --------------------------------------------------------------------------- SwAV
def _swav_expected(m, batch, queue=None):
    T = m.T
    with torch.no_grad():
        z = [_norm_proj(m.backbone, v).double() for v in batch["views"]]
        w = m.swav_prototypes.weight.detach().double()
        scores = [zi @ w.t() for zi in z]
    total = 0.0
    for i, c in enumerate((0, 1)):
        s = scores[c] if queue is None else torch.cat([queue[i].double() @ w.t(), scores[c]])
        codes = slow_sinkhorn(s, 0.05, 3)[-B:]
        sub = 0.0
        for v in range(len(z)):
            if v != c:
                sub += -(codes * torch.log_softmax(scores[v] / T, 1)).sum(1).mean().item()
        total += sub / (len(z) - 1)
    return total / 2, z


def test_swav_loss_prototypes_and_freeze():
    m = _build("swav", **{"DATA.TRAIN_CROP_NUM_TEMPORAL": 3})
    batch = _batch(3)
    with torch.no_grad():
        m.swav_prototypes.weight.mul_(3.0)
    loss = m(batch)["loss"]
    torch.testing.assert_close(m.swav_prototypes.weight.norm(dim=1), torch.ones(5))  # normalised in place
    expected, _ = _swav_expected(m, batch)
    assert loss.item() == pytest.approx(expected, rel=1e-9)
    loss.backward()
    assert m.swav_prototypes.weight.grad is not None
    assert m.before_optimizer_step(Progress(0, 5, 5, 10, 4))  # epoch_exact 0.5: grad dropped
    assert m.swav_prototypes.weight.grad is None
    loss = m(batch)["loss"]
    loss.backward()
    m.before_optimizer_step(Progress(1, 0, 10, 10, 4))  # epoch_exact 1.0 <= 1: still dropped
    assert m.swav_prototypes.weight.grad is None
    m(batch)["loss"].backward()
    m.before_optimizer_step(Progress(1, 5, 15, 10, 4))  # 1.5: kept
    assert m.swav_prototypes.weight.grad is not None


def test_swav_queue_fills_then_joins_sinkhorn():
    m = _build("swav", **{"CONTRASTIVE.SWAV_QEUE_LEN": 2 * B, "SSL.SWAV_QUEUE_START_EPOCH": 1.0})
    m.on_step_start(Progress(0, 0, 0, 10, 4))  # before the start epoch: queue untouched
    m(_batch(2, seed=1))
    assert torch.all(m.queue_swav == 0)
    m.on_step_start(Progress(1, 0, 10, 10, 4))
    b1, b2, b3 = _batch(2, seed=2), _batch(2, seed=3), _batch(2, seed=4)
    m(b1)  # queue half full: not used yet, then filled at the front
    _, z1 = _swav_expected(m, b1)
    m(b2)
    loss2_expected, z2 = _swav_expected(m, b2)  # computed on the weights/queue state of step 2 (no queue)
    torch.testing.assert_close(m.queue_swav[0, :B].double(), z2[0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(m.queue_swav[1, B:].double(), z1[1], rtol=1e-9, atol=1e-12)
    queue = m.queue_swav.clone()
    loss3 = m(b3)["loss"]  # queue full: its scores are prepended before Sinkhorn
    expected3, _ = _swav_expected(m, b3, queue=queue)
    no_queue, _ = _swav_expected(m, b3)
    assert loss3.item() == pytest.approx(expected3, rel=1e-9)
    assert abs(expected3 - no_queue) > 1e-6
    state = m.rank_state_dict()
    other = _build("swav", **{"CONTRASTIVE.SWAV_QEUE_LEN": 2 * B})
    other.load_rank_state_dict(state)
    assert torch.equal(other.queue_swav, m.queue_swav) and other._use_queue
