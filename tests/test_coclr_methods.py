"""CoCLR's methods (InfoNCE, UberNCE, CoCLR): the step against an independent recomputation, the queue
rules, and initialisation from two checkpoints by role."""

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_cfg_opts
from videossl.config import load_config
from videossl.errors import InputError
from videossl.methods import Progress
from videossl.methods.registry import build_method

B = 4


def _cfg(**extra):
    return load_config([], tiny_cfg_opts(**{
        "TASK": "pretrain", "DATA.USE_FLOW": True, "DATA.TRAIN_CROP_NUM_TEMPORAL": 2, "CONTRASTIVE.DIM": 8,
        "MODEL.NUM_CLASSES": 8, "CONTRASTIVE.MLP_DIM": 16, "CONTRASTIVE.NUM_MLP_LAYERS": 2,
        "CONTRASTIVE.QUEUE_LEN": 2 * B, "CONTRASTIVE.T": 0.07, "RESNET.NUM_BLOCK_TEMP_KERNEL": [[1], [1], [1], [1]],
        **extra}))


def _batch(seed, labels=(0, 1, 1, 2), sources=(0, 0, 1, 2)):
    g = torch.Generator().manual_seed(seed)
    return {"views": [torch.randn(B, 3, 4, 32, 32, generator=g, dtype=torch.float64) for _ in range(2)],
            "flow": [torch.randn(B, 3, 4, 32, 32, generator=g, dtype=torch.float64) for _ in range(2)],
            "label": torch.tensor(labels), "source_id": torch.tensor(sources), "index": torch.arange(B)}


pytestmark = pytest.mark.usefixtures("float64")  # exact comparisons (conftest.float64)


def test_coclr_step_matches_an_independent_recomputation():
    torch.manual_seed(0)
    method = build_method(_cfg(**{"SSL.METHOD": "coclr", "SSL.COCLR_TOPK": 2, "SSL.COCLR_DROP_SELF_P": 0.0}))
    method.train()
    for step in range(2):  # a queue of 2 batches: full after two steps
        method.on_step_start(Progress(0, step, step, 10, 1))
        method(_batch(step))
        assert not method.before_optimizer_step(Progress(0, step, step, 10, 1))  # not full at its forward
    assert method.queue_is_full()
    batch = _batch(5)
    queue, second, vname = method.queue_x.clone(), method.queue_second.clone(), method.queue_vname.clone()
    method.on_step_start(Progress(0, 2, 2, 10, 1))
    loss = method(batch)["loss"]
    assert method.before_optimizer_step(Progress(0, 2, 2, 10, 1))
    # by hand: q from the online encoder, k from the momentum encoder, kf from the frozen flow sampler
    with torch.no_grad():
        q = F.normalize(method.backbone(batch["views"][0]), dim=1)
        k = F.normalize(method.backbone_hist(batch["views"][1]), dim=1)
        kf = F.normalize(method.sampler(batch["flow"][1]), dim=1)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.t()], 1) / 0.07
    expected = 0.0
    for b in range(B):
        same = [j for j in range(len(queue)) if vname[j] == batch["source_id"][b]]
        sims = sorted(((float(kf[b] @ second[j]), j) for j in range(len(queue)) if j not in same), reverse=True)
        positives = [0] + [1 + j for j in same] + [1 + j for _, j in sims[:2]]
        expected += -(torch.logsumexp(logits[b, positives], 0) - torch.logsumexp(logits[b], 0))
    torch.testing.assert_close(loss, expected / B)
    # the queue now holds this batch's keys at the oldest slots, and the sampler's keys beside them
    torch.testing.assert_close(method.queue_x[:B], k)
    torch.testing.assert_close(method.queue_second[:B], kf)


def test_coclr_takes_no_optimizer_step_until_the_queue_is_full(tmp_path):
    from videossl.engine.loop import build_trainer

    cfg = _cfg(**{"SSL.METHOD": "coclr", "OUTPUT_DIR": str(tmp_path), "TRAIN.BATCH_SIZE": B})
    trainer = build_trainer(cfg)
    trainer.method.train()
    before = {n: p.detach().clone() for n, p in trainer.method.backbone.named_parameters()}
    sampler = {n: p.detach().clone() for n, p in trainer.method.sampler.named_parameters()}
    moved = []
    for step in range(3):
        trainer.run_step(_batch(step), Progress(0, step, step, 10, 1))
        moved.append(any(not torch.equal(p, before[n]) for n, p in trainer.method.backbone.named_parameters()))
    assert moved == [False, False, True]  # steps 0 and 1 fill the queue of 2 batches
    assert all(torch.equal(p, sampler[n]) for n, p in trainer.method.sampler.named_parameters())
    assert not trainer.method.sampler.training and trainer.method.backbone.training


def test_ubernce_takes_every_queued_key_of_the_same_label_as_a_positive():
    torch.manual_seed(0)
    method = build_method(_cfg(**{"SSL.METHOD": "ubernce", "DATA.USE_FLOW": False}))
    method.train()
    method.on_step_start(Progress(0, 0, 0, 10, 1))
    method(_batch(0, labels=(0, 1, 1, 2)))
    batch = _batch(1, labels=(1, 1, 3, 0))  # duplicate labels within the batch, and one never queued
    queue, queue_label = method.queue_x.clone(), method.queue_label.clone()
    method.on_step_start(Progress(0, 1, 1, 10, 1))
    loss = method(batch)["loss"]
    with torch.no_grad():
        q = F.normalize(method.backbone(batch["views"][0]), dim=1)
        k = F.normalize(method.backbone_hist(batch["views"][1]), dim=1)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.t()], 1) / 0.07
    expected = 0.0
    for b in range(B):
        positives = [0] + [1 + j for j in range(len(queue)) if queue_label[j] == batch["label"][b]]
        expected += -torch.log_softmax(logits[b], 0)[positives].mean()
    torch.testing.assert_close(loss, expected / B)
    assert queue_label.tolist()[:B] == [0, 1, 1, 2] and method.queue_label.tolist()[B:] == [1, 1, 3, 0]


def test_coclr_initialises_from_two_checkpoints_by_role(tmp_path):
    from videossl.engine.tasks import get_task
    from videossl.engine.weights import initialise

    torch.manual_seed(1)
    rgb = build_method(_cfg(**{"SSL.METHOD": "infonce", "DATA.USE_FLOW": False}))
    flow = build_method(_cfg(**{"SSL.METHOD": "infonce", "SSL.COCLR_STREAM": "flow"}))
    torch.save({"model_state": rgb.state_dict(), "epoch": 3}, tmp_path / "rgb.pyth")
    torch.save({"model_state": flow.state_dict(), "epoch": 3}, tmp_path / "flow.pyth")
    method = build_method(_cfg(**{"SSL.METHOD": "coclr"}))
    initialise(method, {"query": str(tmp_path / "rgb.pyth"), "sampler": str(tmp_path / "flow.pyth")},
               get_task("pretrain"))
    for n, p in rgb.backbone.state_dict().items():
        assert torch.equal(method.backbone.state_dict()[n], p), n
    for n, p in flow.backbone.state_dict().items():
        assert torch.equal(method.sampler.state_dict()[n], p), n
    assert int(method.ptr[0]) == 0 and (method.queue_label == -1).all()  # queues restart
    with pytest.raises(InputError, match="no initialisation role 'model'"):
        initialise(method, {"model": str(tmp_path / "rgb.pyth")}, get_task("pretrain"))


def test_flow_stream_without_flow_data_is_named():
    with pytest.raises(InputError, match="DATA.USE_FLOW True"):
        build_method(_cfg(**{"SSL.METHOD": "coclr", "DATA.USE_FLOW": False}))
    method = build_method(_cfg(**{"SSL.METHOD": "infonce", "DATA.USE_FLOW": False}))
    batch = _batch(0)
    batch["views"] = batch["views"][:1]
    with pytest.raises(InputError, match="exactly 2 clips"):
        method(batch)


def test_a_checkpoint_in_coclrs_own_layout_round_trips_through_init_and_evaluation(tmp_path):
    """Our CoCLR state exported to CoCLR's layout ({"state_dict": encoder_q.*, encoder_k.*, sampler.*, queue, ...})
    initialises a new CoCLR by role, loads whole for testing, and gives the same features."""
    from videossl.engine import weights
    from videossl.engine.tasks import get_task
    from videossl.models.convert import SOURCES

    torch.manual_seed(2)
    trained = build_method(_cfg(**{"SSL.METHOD": "coclr"}))
    trained.train()
    for step in range(3):
        trained.on_step_start(Progress(0, step, step, 10, 1))
        trained(_batch(step))
    state = SOURCES["coclr"].from_ours(trained.state_dict())
    assert {"encoder_q.0.s1.pathway0_stem.conv.weight", "encoder_k.4.bias", "sampler.2.weight", "queue",
            "queue_ptr", "queue_second", "queue_vname"} <= set(state)
    assert state["queue"].shape == (8, 2 * B) and state["encoder_q.2.weight"].dim() == 5  # dim x K; Conv3d 1x1x1
    path = tmp_path / "epoch99.pth.tar"
    torch.save({"epoch": 99, "state_dict": state, "best_acc": 0.0, "optimizer": {}, "iteration": 3}, path)

    # CoCLR's --pretrain A B with A = B = this file: A's and B's encoder_q
    fresh = build_method(_cfg(**{"SSL.METHOD": "coclr"}))
    weights.initialise(fresh, {"query": str(path), "sampler": str(path)}, get_task("pretrain"))
    for n, p in trained.backbone.state_dict().items():
        assert torch.equal(fresh.backbone.state_dict()[n], p) and torch.equal(fresh.sampler.state_dict()[n], p), n
    # testing: every encoder loads whole (the queues restart)
    tested = build_method(_cfg(**{"SSL.METHOD": "coclr"}))
    assert weights.load_for_test(tested, str(path))
    for module in ("backbone", "backbone_hist", "sampler"):
        for n, p in getattr(trained, module).state_dict().items():
            assert torch.equal(getattr(tested, module).state_dict()[n], p), f"{module}.{n}"
    trained.eval(), tested.eval()
    batch = _batch(7)
    torch.testing.assert_close(tested.features(batch), trained.features(batch), rtol=0, atol=0)
