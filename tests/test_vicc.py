"""ViCC: Sinkhorn marginals, the single- and cross-stream losses against slow loops, which views get gradient,
prototype freezing by whole epochs, the queue, and initialisation by role (ViCC's own layout included)."""

import math

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_cfg_opts
from helpers.slow_reference import slow_sinkhorn
from videossl.config import load_config
from videossl.errors import InputError
from videossl.methods import Progress
from videossl.methods.registry import build_method
from videossl.methods.sinkhorn import sinkhorn
from videossl.methods.vicc import vicc_queue_len

B, P, DIM = 4, 6, 8

pytestmark = pytest.mark.usefixtures("float64")  # exact comparisons (conftest.float64)


def _cfg(**extra):
    return load_config([], tiny_cfg_opts(**{
        "TASK": "pretrain", "SSL.METHOD": "vicc", "DATA.USE_FLOW": True, "DATA.TRAIN_CROP_NUM_TEMPORAL": 2,
        "CONTRASTIVE.DIM": DIM, "MODEL.NUM_CLASSES": DIM, "CONTRASTIVE.MLP_DIM": 16,
        "CONTRASTIVE.NUM_MLP_LAYERS": 2, "CONTRASTIVE.T": 0.1, "SSL.SWAV_NUM_PROTOTYPES": P,
        "SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS": 0, "TRAIN.BATCH_SIZE": B,
        "RESNET.NUM_BLOCK_TEMP_KERNEL": [[1], [1], [1], [1]], **extra}))


def _batch(seed):
    g = torch.Generator().manual_seed(seed)
    return {"views": [torch.randn(B, 3, 4, 32, 32, generator=g, dtype=torch.float64) for _ in range(2)],
            "flow": [torch.randn(B, 3, 4, 32, 32, generator=g, dtype=torch.float64) for _ in range(2)],
            "label": torch.zeros(B, dtype=torch.long), "source_id": torch.arange(B), "index": torch.arange(B)}


def _slow_vicc_loss(emb, prototypes, assign, T, eps, iters, queue_scores=None):
    """ViCC's loss written out: for each assignment view i, Sinkhorn codes of [queue; view i] (batch rows kept),
    then -1/B Σ_b Σ_k q_bk log softmax(s_v/T)_bk summed over v != i, / (V - 1); the mean over i."""
    w = F.normalize(prototypes, dim=1)
    scores = [[[sum(float(z[b, d]) * float(w[k, d]) for d in range(z.shape[1])) for k in range(w.shape[0])]
               for b in range(z.shape[0])] for z in emb]
    n_views, total = len(emb), 0.0
    for i in assign:
        s = torch.tensor(scores[i], dtype=torch.float64)
        if queue_scores is not None:
            s = torch.cat([queue_scores[i], s])
        q = slow_sinkhorn(s, eps, iters)[-B:]
        sub = 0.0
        for v in range(n_views):
            if v == i:
                continue
            for b in range(B):
                logz = math.log(sum(math.exp(x / T) for x in scores[v][b]))
                sub -= sum(float(q[b, k]) * (scores[v][b][k] / T - logz) for k in range(len(scores[v][b]))) / B
        total += sub / (n_views - 1)
    return total / len(assign)


def test_sinkhorn_marginals_follow_the_paper():
    """Q = exp(S/ε)ᵀ scaled so that every prototype row sums to 1/P and every sample column to 1/N;
    returned as codes, one row per sample summing to 1. The column constraint holds exactly after any
    number of rounds; the row constraint is approached (ViCC uses 3 rounds) and met in the limit."""
    g = torch.Generator().manual_seed(0)
    n = 24
    scores = F.normalize(torch.randn(n, 16, generator=g), dim=1) @ F.normalize(torch.randn(P, 16, generator=g),
                                                                           dim=1).t()
    err = {}
    for iters in (0, 3, 200):
        codes = sinkhorn(scores, eps=0.05, iters=iters)
        torch.testing.assert_close(codes.sum(1), torch.ones(n))  # each sample's codes sum to 1
        err[iters] = (codes.sum(0) / n * P - 1).abs().max().item()  # prototype mass vs the uniform n / P
    assert err[3] < err[0] and err[200] < 1e-6 and err[0] > 0.1, err


def test_single_stream_loss_and_gradients_match_slow_loops():
    torch.manual_seed(0)
    method = build_method(_cfg())
    method.train()
    batch = _batch(1)
    emb = method.view_embeddings(batch)
    assert len(emb) == 2 and emb[0].requires_grad and not emb[1].requires_grad  # view 1: no gradient
    loss = method.embeddings_loss(emb)
    expected = _slow_vicc_loss([e.detach() for e in emb], method.swav_prototypes.weight.detach(), (0, 1), 0.1, 0.05, 3)
    assert loss.item() == pytest.approx(expected, rel=1e-9)
    # the encoder learns through view 0 only: the same gradient as the loss with view 1 a constant
    loss.backward()
    got = {n: p.grad.clone() for n, p in method.backbone.named_parameters()}
    method.zero_grad()
    s = method.project(batch["views"][0])[0]
    method.embeddings_loss([s, emb[1].detach()]).backward()
    for n, p in method.backbone.named_parameters():
        torch.testing.assert_close(got[n], p.grad, msg=n)


def test_cross_stream_views_and_loss_match_slow_loops():
    torch.manual_seed(0)
    method = build_method(_cfg(**{"SSL.METHOD": "vicc_cross"}))
    method.train()
    assert not method.second.training and not any(p.requires_grad for p in method.second.parameters())
    batch = _batch(2)
    emb = method.view_embeddings(batch)
    assert len(emb) == 4 and method.crops_for_assign == (0, 1, 2, 3)
    # views 2 and 3 are the frozen second encoder on the other stream's clips 1 and 0
    for view, clip in ((2, 1), (3, 0)):
        torch.testing.assert_close(emb[view], F.normalize(method.second(batch["flow"][clip]), dim=1))
    loss = method.embeddings_loss(emb)
    expected = _slow_vicc_loss([e.detach() for e in emb], method.swav_prototypes.weight.detach(), (0, 1, 2, 3),
                               0.1, 0.05, 3)
    assert loss.item() == pytest.approx(expected, rel=1e-9)
    loss.backward()
    assert method.swav_prototypes.weight.grad is not None and method.swav_prototypes.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in method.second.parameters())


def test_the_flow_stream_trains_flow_and_takes_rgb_as_second():
    torch.manual_seed(0)
    method = build_method(_cfg(**{"SSL.METHOD": "vicc_cross", "SSL.COCLR_STREAM": "flow"}))
    method.eval()
    batch = _batch(3)
    emb = method.view_embeddings(batch)
    torch.testing.assert_close(emb[0], method.project(batch["flow"][0])[0])
    torch.testing.assert_close(emb[2], F.normalize(method.second(batch["views"][1]), dim=1))
    torch.testing.assert_close(method.features(batch), method.backbone.forward_features(batch["flow"][0]))


def test_the_queue_starts_at_its_epoch_and_joins_sinkhorn_once_full():
    torch.manual_seed(0)
    method = build_method(_cfg(**{"SSL.METHOD": "vicc_cross", "CONTRASTIVE.SWAV_QEUE_LEN": 2 * B,
                                  "SSL.SWAV_QUEUE_START_EPOCH": 1}))
    method.train()
    assert method.queue_swav.shape == (4, 2 * B, DIM)
    method.on_step_start(Progress(0, 0, 0, 3, 4))
    method(_batch(0))
    assert (method.queue_swav == 0).all()  # epoch 0: not yet
    for step, it in enumerate(range(2)):
        method.on_step_start(Progress(1, it, 3 + it, 3, 4))
        emb = method.view_embeddings(_batch(10 + step))
        method.embeddings_loss(emb)
        torch.testing.assert_close(method.queue_swav[:, :B], torch.stack([e.detach() for e in emb]))
    # now full: the next step's codes come from Sinkhorn over [queue; batch] (slow loop)
    queue = method.queue_swav.clone()
    method.on_step_start(Progress(1, 2, 5, 3, 4))
    emb = method.view_embeddings(_batch(20))
    loss = method.embeddings_loss(emb)
    w = F.normalize(method.swav_prototypes.weight.detach(), dim=1)
    expected = _slow_vicc_loss([e.detach() for e in emb], w, (0, 1, 2, 3), 0.1, 0.05, 3,
                               queue_scores=[queue[i] @ w.t() for i in range(4)])
    assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_queue_length_is_rounded_to_whole_global_batches_and_split_over_processes():
    assert vicc_queue_len(1920, 192, 4) == 480  # ViCC single stream: 48 x 4 GPUs
    assert vicc_queue_len(1920, 96, 4) == 480  # cross stream: 24 x 4
    assert vicc_queue_len(1000, 96, 2) == 960 // 2
    assert vicc_queue_len(0, 96, 2) == 0
    with pytest.raises(InputError, match="SWAV_QEUE_LEN=8 is smaller than the global batch"):
        vicc_queue_len(8, 16, 1)


def test_prototypes_are_frozen_for_exactly_the_configured_epochs():
    torch.manual_seed(0)
    method = build_method(_cfg(**{"SSL.SWAV_FREEZE_PROTOTYPES_EPOCHS": 2}))
    method.train()
    iters, frozen = 3, []
    for epoch in range(4):
        for it in range(iters):
            progress = Progress(epoch, it, epoch * iters + it, iters, 4)
            method.zero_grad()
            method.on_step_start(progress)
            method(_batch(epoch * iters + it))["loss"].backward()
            assert method.swav_prototypes.weight.grad.abs().sum() > 0
            method.before_optimizer_step(progress)
            frozen.append(method.swav_prototypes.weight.grad is None)
            assert next(method.backbone.parameters()).grad is not None  # the encoder always learns
    assert frozen == [True] * (2 * iters) + [False] * (2 * iters)


def test_only_the_prototypes_learn_during_the_align_epochs():
    torch.manual_seed(0)
    method = build_method(_cfg(**{"SSL.METHOD": "vicc_cross", "SSL.VICC_ALIGN_EPOCHS": 1}))
    method.train()
    for epoch, aligning in ((0, True), (1, False)):
        progress = Progress(epoch, 0, epoch, 1, 2)
        method.zero_grad()
        method.on_step_start(progress)
        method(_batch(epoch))["loss"].backward()
        method.before_optimizer_step(progress)
        stepping = {n for n, p in method.named_parameters() if p.grad is not None}
        assert "swav_prototypes.weight" in stepping
        encoder = {n for n, p in method.named_parameters() if n.startswith("backbone.") and p.requires_grad}
        assert encoder and (stepping.isdisjoint(encoder) if aligning else encoder <= stepping), epoch
        assert not any(n.startswith("second.") for n in stepping)


def test_cross_stream_initialises_by_role_and_drops_the_second_runs_prototypes(tmp_path):
    from videossl.engine.tasks import get_task
    from videossl.engine.weights import initialise

    torch.manual_seed(1)
    rgb = build_method(_cfg())
    flow = build_method(_cfg(**{"SSL.COCLR_STREAM": "flow"}))
    torch.save({"model_state": rgb.state_dict(), "epoch": 3}, tmp_path / "rgb.pyth")
    torch.save({"model_state": flow.state_dict(), "epoch": 3}, tmp_path / "flow.pyth")
    method = build_method(_cfg(**{"SSL.METHOD": "vicc_cross"}))
    initialise(method, {"query": str(tmp_path / "rgb.pyth"), "second": str(tmp_path / "flow.pyth")},
               get_task("pretrain"))
    for n, p in rgb.backbone.state_dict().items():
        assert torch.equal(method.backbone.state_dict()[n], p), n
    for n, p in flow.backbone.state_dict().items():
        assert torch.equal(method.second.state_dict()[n], p), n
    assert torch.equal(method.swav_prototypes.weight, rgb.swav_prototypes.weight)
    assert not torch.equal(method.swav_prototypes.weight, flow.swav_prototypes.weight)
    with pytest.raises(InputError, match="no initialisation role 'sampler'"):
        initialise(method, {"sampler": str(tmp_path / "rgb.pyth")}, get_task("pretrain"))


def test_a_checkpoint_in_viccs_own_layout_round_trips_through_init_and_evaluation(tmp_path):
    """A cross-stream state in ViCC's layout ({"state_dict": encoder_q.*, prototypes.weight, second.*}) resumes
    training (``query`` = the file: encoder, prototypes and second) and loads whole for testing."""
    from videossl.engine import weights
    from videossl.engine.tasks import get_task
    from videossl.models.convert import SOURCES

    torch.manual_seed(2)
    trained = build_method(_cfg(**{"SSL.METHOD": "vicc_cross"}))
    trained.train()
    for step in range(2):
        trained.on_step_start(Progress(0, step, step, 10, 1))
        trained(_batch(step))["loss"].backward()
    state = SOURCES["coclr"].from_ours({k: v for k, v in trained.state_dict().items() if k != "queue_swav"})
    assert {"encoder_q.0.s1.pathway0_stem.conv.weight", "encoder_q.4.weight", "second.2.weight",
            "prototypes.weight"} <= set(state)
    assert not any(k.startswith(("backbone.", "swav_")) for k in state)
    path = tmp_path / "epoch99.pth.tar"
    torch.save({"epoch": 99, "state_dict": state, "best_loss": 0.0, "optimizer": {}, "iteration": 2}, path)

    resumed = build_method(_cfg(**{"SSL.METHOD": "vicc_cross"}))
    weights.initialise(resumed, {"query": str(path)}, get_task("pretrain"))
    tested = build_method(_cfg(**{"SSL.METHOD": "vicc_cross"}))
    assert weights.load_for_test(tested, str(path))
    for method in (resumed, tested):
        for n, p in trained.state_dict().items():
            if n != "queue_swav":
                assert torch.equal(method.state_dict()[n], p), n
    trained.eval(), tested.eval()
    batch = _batch(7)
    torch.testing.assert_close(tested.features(batch), trained.features(batch), rtol=0, atol=0)
    # a linear probe takes the encoder of ViCC's file
    probe = build_method(load_config([], tiny_cfg_opts(**{"TASK": "linear", "MODEL.NUM_CLASSES": 3,
                                                            "RESNET.NUM_BLOCK_TEMP_KERNEL": [[1], [1], [1], [1]]})))
    weights.initialise(probe, {"model": str(path)}, get_task("linear"))
    encoder = {n: p for n, p in trained.backbone.state_dict().items() if not n.startswith("head.")}
    assert len(encoder) > 20
    for n, p in encoder.items():
        assert torch.equal(probe.net.state_dict()[n], p), n


def test_vicc_needs_flow_for_the_flow_stream_and_for_cross_stream():
    with pytest.raises(InputError, match="vicc_cross on SSL.COCLR_STREAM rgb needs DATA.USE_FLOW True"):
        build_method(_cfg(**{"SSL.METHOD": "vicc_cross", "DATA.USE_FLOW": False}))
    with pytest.raises(InputError, match="vicc on SSL.COCLR_STREAM flow needs DATA.USE_FLOW True"):
        build_method(_cfg(**{"SSL.COCLR_STREAM": "flow", "DATA.USE_FLOW": False}))
