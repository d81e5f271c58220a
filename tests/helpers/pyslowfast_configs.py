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
