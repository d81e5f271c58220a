"""Backbones: output shapes, exact parameter counts of the references, PySlowFast layout, FLOPs.

Reference counts were obtained by instantiating the reference code (fetched
repositories, outside this tree): CoCLR ``backbone/s3dg.py`` ``S3D`` at
45f200e, ViCC ``src/backbone/r21d.py`` ``R2Plus1DNet((1,1,1,1))`` at 2e9f9ca,
AVID-CMA ``models/video.py`` ``R2Plus1D(depth=18)`` at 4538e40; the Slow R50
numbers come from PySlowFast's own state-dict dump (slow_r50_linear_k400).
"""

import hashlib

import pytest
import torch
from torch import nn

from videossl.config import load_config
from videossl.models import build_backbone, build_model
from videossl.models.heads import VideoHead
from videossl.models.model_info import count_params, flops_gmac
from videossl.models.r2plus1d import R2Plus1D, R2Plus1DNet, matched_mid_channels
from videossl.models.resnet import ResNet3D, block_temporal_kernels
from videossl.models.s3d import S3D

# sha256 of the sorted "key (shape)" lines of PySlowFast's Slow R50 8x8 (400 classes) state dict.
SLOW_R50_LAYOUT_SHA256 = "873a4f1904b94a7b957ce4b344918de452004c15a3351884c1084ce4c48b7c34"


def _meta(build):
    with torch.device("meta"):
        return build()


def _layout_sha(model: nn.Module) -> str:
    lines = sorted(f"{k} {tuple(v.shape)}" for k, v in model.state_dict().items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# ---------------------------------------------------------------- parameter counts


def test_slow_r50_matches_pyslowfast_state_dict_exactly():
    def build():
        net = ResNet3D(50, "slow")
        net.head = VideoHead(2048, 400)
        return net

    net = _meta(build)
    assert count_params(net) == 32_454_096
    assert len(net.state_dict()) == 320
    assert _layout_sha(net) == SLOW_R50_LAYOUT_SHA256
    assert net.state_dict()["s4.pathway0_res0.branch2.a.weight"].shape == (256, 512, 3, 1, 1)


@pytest.mark.parametrize("build, expected", [
    (lambda: S3D(gating=False), 7_910_048),      # CoCLR / ViCC --net s3d
    (lambda: S3D(gating=True), 9_098_000),       # --net s3dg (the "S3D-G 9.1M" of the seed table)
    (lambda: R2Plus1D(18), 15_379_136),          # AVID-CMA R2Plus1D(depth=18): the "R(2+1)D-18 15.4M"
    (lambda: R2Plus1DNet((1, 1, 1, 1)), 14_365_303),  # ViCC --net r21d
])
def test_reference_parameter_counts(build, expected):
    assert count_params(_meta(build)) == expected


def test_s3d_and_r21d_state_dict_sizes_match_references():
    # The references' state dicts: CoCLR S3D 924 keys (every layer twice, see convert), ours once.
    assert len(_meta(S3D).state_dict()) == 924 // 2
    assert len(_meta(lambda: R2Plus1D(18)).state_dict()) == 201
    assert len(_meta(R2Plus1DNet).state_dict()) == 144


def test_torchvision_r2plus1d_18_is_a_different_network():
    from torchvision.models.video import r2plus1d_18

    tv = _meta(r2plus1d_18)
    assert count_params(tv) - (512 * 400 + 400) == 31_300_125
    assert abs(count_params(_meta(lambda: R2Plus1D(18))) - 15.4e6) < 0.05e6


def test_vcop_mid_channels_follow_the_parameter_matching_formula():
    # floor(t*k*k*Cin*Cout / (k*k*Cin + t*Cout)): the stem 3->64 with 3x7x7 gives 83.
    assert matched_mid_channels(3, 64, (3, 7, 7)) == 83
    assert matched_mid_channels(64, 64, (3, 3, 3)) == 144
    net = R2Plus1DNet()
    assert net.conv1.spatial_conv.out_channels == 83
    assert net.conv3.block1.downsampleconv.spatial_conv.out_channels == 64 * 128 // (64 + 128)


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize("make, dim, map_shape", [
    (lambda: S3D(), 1024, (1024, 1, 1, 1)),
    (lambda: S3D(gating=True), 1024, (1024, 1, 1, 1)),
    (lambda: R2Plus1D(18), 512, (512, 1, 1, 1)),
    (lambda: R2Plus1D(10, pool="avg"), 512, (512, 1, 1, 1)),
    (lambda: R2Plus1DNet(), 512, (512, 1, 2, 2)),
    (lambda: ResNet3D(10, "slow", width_per_group=4), 128, (128, 8, 1, 1)),
])
def test_backbone_shapes_and_head_contract(make, dim, map_shape):
    torch.manual_seed(0)
    net = make().eval()
    x = torch.randn(2, 3, 8, 32, 32)
    assert net.feature_dim == dim and net.head is None
    with torch.no_grad():
        assert net.forward_maps(x).shape == (2,) + map_shape
        feats = net.forward_features(x)
        assert feats.shape == (2, dim)
        assert torch.equal(net(x), feats)
        net.head = nn.Linear(dim, 5)
        assert net(x).shape == (2, 5)


def test_s3d_reduces_time_8x_and_space_32x():
    with torch.no_grad():
        assert S3D().eval().forward_maps(torch.randn(1, 3, 16, 64, 96)).shape == (1, 1024, 2, 2, 3)


def test_r2plus1d_pools_as_the_references():
    x = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        net = R2Plus1D(10).eval()
        maps = net.forward_maps(torch.randn(1, 3, 16, 64, 64))
        assert maps.shape == (1, 512, 2, 2, 2)
        assert torch.equal(net.pool(maps).flatten(1), maps.amax(dim=(2, 3, 4)))
        vcop = R2Plus1DNet().eval()
        maps = vcop.forward_maps(x)
        assert torch.allclose(vcop.forward_features(x), maps.mean(dim=(2, 3, 4)))
    with pytest.raises(ValueError, match="pool"):
        R2Plus1D(18, pool="median")


def test_s3dg_gates_every_branch():
    net = S3D(gating=True)
    assert all(hasattr(net.Mixed_4c, f"gating_b{i}") for i in range(4))
    assert not hasattr(S3D().Mixed_4c, "gating_b0")
    # Zero gating weights and a very negative bias switch a block's output off.
    with torch.no_grad():
        for i in range(4):
            fc = getattr(net.Mixed_5c, f"gating_b{i}").fc
            fc.weight.zero_()
            fc.bias.fill_(-1e4)
    assert net.eval().forward_maps(torch.randn(1, 3, 8, 32, 32)).abs().max() == 0


# ---------------------------------------------------------------- PySlowFast ResNet tables


def test_temporal_kernel_expansion_matches_pyslowfast():
    # (basis * blocks)[:n] + [1] * (blocks - n)  (resnet_helper.ResStage)
    assert block_temporal_kernels([3, 1], 4, 4) == [3, 1, 3, 1]
    assert block_temporal_kernels([1, 3], 3, 3) == [1, 3, 1]
    assert block_temporal_kernels([3], 6, 3) == [3, 3, 3, 1, 1, 1]
    assert block_temporal_kernels([3], 1, 3) == [3]  # clipped (R10 with the default table)


def _a_kernels(net, stage):
    blocks = getattr(net, f"s{stage}")
    return [getattr(blocks, f"pathway0_res{i}").branch2.a.kernel_size[0] for i in range(blocks.num_blocks)]


def test_i3d_c2d_slow_temporal_structure():
    i3d = _meta(lambda: ResNet3D(50, "i3d"))
    assert i3d.s1.pathway0_stem.conv.kernel_size == (5, 7, 7)
    assert [_a_kernels(i3d, s) for s in (2, 3, 4, 5)] == [[3, 3, 3], [3, 1, 3, 1], [3, 1, 3, 1, 3, 1], [1, 3, 1]]
    assert i3d.pathway0_pool.kernel_size == (2, 1, 1)
    slow = _meta(lambda: ResNet3D(50, "slow"))
    assert [_a_kernels(slow, s) for s in (2, 3, 4, 5)] == [[1] * 3, [1] * 4, [3] * 6, [3] * 3]
    assert slow.pathway0_pool.kernel_size == (1, 1, 1)
    # c2d halves T after res2; slow keeps it.
    x = torch.randn(1, 3, 8, 32, 32)
    assert ResNet3D(10, "c2d", width_per_group=4).forward_maps(x).shape[2] == 4
    assert ResNet3D(10, "slow", width_per_group=4).forward_maps(x).shape[2] == 8


def test_basic_transform_layout():
    net = _meta(lambda: ResNet3D(18, "slow", trans_func="basic_transform"))
    block = net.s4.pathway0_res0.branch2
    assert block.a.kernel_size == (3, 3, 3) and block.a.stride == (1, 2, 2) and block.a.padding == (1, 1, 1)
    assert block.b.kernel_size == (1, 3, 3) and block.b.in_channels == block.b.out_channels == 1024
    assert not hasattr(block, "c")


def test_zero_init_final_conv_and_bn():
    net = ResNet3D(10, "slow", width_per_group=4, zero_init_final_conv=True, zero_init_final_bn=True)
    branch = net.s3.pathway0_res0.branch2
    assert branch.c.weight.abs().sum() == 0 and branch.c_bn.weight.abs().sum() == 0
    assert branch.b.weight.abs().sum() > 0 and branch.b_bn.weight.abs().sum() > 0


# ---------------------------------------------------------------- builders and FLOPs


def test_arch_names_are_registered():
    from videossl.models import ARCH_REGISTRY

    names = {"s3d", "s3dg", "r2plus1d_10", "r2plus1d_18", "r2plus1d_34", "r21d_vcop", "r21d",
             "slow", "c2d", "i3d", "slow_c2d", "slow_i3d", "2d"}
    assert names <= {k for k, _ in ARCH_REGISTRY}
    with torch.device("meta"):
        assert isinstance(build_backbone(load_config([], ["MODEL.ARCH", "r21d"])), R2Plus1DNet)
        assert isinstance(build_backbone(load_config([], ["MODEL.ARCH", "r2plus1d_10"])), R2Plus1D)
        assert build_backbone(load_config([], ["MODEL.ARCH", "s3dg"])).gating


@pytest.mark.parametrize("arch, dim", [("s3dg", 1024), ("r2plus1d_18", 512), ("r21d_vcop", 512),
                                       ("slow_i3d", 128)])
def test_build_from_config(arch, dim):
    cfg = load_config([], ["MODEL.ARCH", arch, "RESNET.DEPTH", "10", "RESNET.WIDTH_PER_GROUP", "4",
                           "MODEL.NUM_CLASSES", "7"])
    net = build_model(cfg)
    assert net.feature_dim == dim
    out = net(torch.randn(2, 3, 8, 32, 32))  # train mode, with gradients
    assert out.shape == (2, 7)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_build_r2plus1d_options_from_config():
    cfg = load_config([], ["MODEL.ARCH", "r21d_vcop", "R2PLUS1D.VCOP_LAYER_SIZES", "[2, 1, 1, 1]",
                           "R2PLUS1D.POOL", "max"])
    net = build_backbone(cfg)
    assert len(net.conv2.blocks) == 1 and isinstance(net.pool, nn.AdaptiveMaxPool3d)
    cfg = load_config([], ["MODEL.ARCH", "r2plus1d_34"])
    assert len(build_backbone(cfg).conv4x) == 6


def test_slow_r50_fvcore_gflops():
    # 54.75 is PySlowFast's fvcore figure for Slow R50 8x8 at its 256^2 test crop (conv share 54.52,
    # the model zoo's number); at the 224^2 train crop the same network is 41.92.
    torch.manual_seed(0)
    net = ResNet3D(50, "slow")
    net.head = VideoHead(2048, 400)
    assert flops_gmac(net, (1, 3, 8, 256, 256)) == pytest.approx(54.75, rel=0.005)
    assert flops_gmac(net, (1, 3, 8, 224, 224)) == pytest.approx(41.92, rel=0.005)
    assert net.training  # mode restored
