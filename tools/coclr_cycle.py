#!/usr/bin/env python3
"""CoCLR's (or ViCC's) alternation as one command: both streams alone, then cycles of RGB and flow co-training.

    python tools/coclr_cycle.py --root output/coclr [--method coclr|vicc] [--cycles 2] [--half] \
        [--first CONFIG] [--then CONFIG] [KEY VALUE ...]

Stages, each a ``tools/run_net.py`` job in its own ``ROOT/<stage>`` folder:

1. the first stage on each stream (``SSL.COCLR_STREAM`` rgb / flow): CoCLR's
   InfoNCE (``infonce_rgb``, ``infonce_flow``) or ViCC's single stream
   (``single_rgb``, ``single_flow``);
2. for each cycle c: the RGB turn (``coclr_rgb_c`` / ``cross_rgb_c``: query =
   the newest RGB encoder, the other role = the newest flow encoder), then the
   flow turn (``coclr_flow_c`` / ``cross_flow_c``: query = the newest flow
   encoder, the other role = the RGB encoder just trained). This is
   ``--pretrain A B`` (with ``--reverse`` for the flow turn) of CoCLR's and
   ViCC's scripts; the other role is CoCLR's ``sampler`` or ViCC's ``second``.
   ``--half`` stops after the last RGB turn.

Default configs: the synthetic ones of the method (``configs/synthetic/coclr/``
InfoNCE_R10 then CoCLR_R10; ``configs/synthetic/vicc/`` ViCC_R10 then
ViCC_cross_R10). A stage whose final checkpoint exists is skipped, and an
interrupted stage resumes from its own checkpoints (``TRAIN.AUTO_RESUME``),
so rerunning the command continues where it stopped. ``KEY VALUE`` overrides
go to every stage.
"""

import argparse
import os
import subprocess
import sys

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT_DIR)

from tools.cli import run_main  # noqa: E402

# method -> (first stage's prefix, co-training prefix, the other stream's role, default configs)
METHODS = {
    "coclr": ("infonce", "coclr", "sampler",
              ("configs/synthetic/coclr/InfoNCE_R10.yaml", "configs/synthetic/coclr/CoCLR_R10.yaml")),
    "vicc": ("single", "cross", "second",
             ("configs/synthetic/vicc/ViCC_R10.yaml", "configs/synthetic/vicc/ViCC_cross_R10.yaml")),
}


def stages(cycles: int, half: bool, method: str = "coclr"):
    """``(name, stream, config kind, query stage, other-role stage)`` in order."""
    first, then = METHODS[method][:2]
    rgb, flow = f"{first}_rgb", f"{first}_flow"
    out = [(rgb, "rgb", first, None, None), (flow, "flow", first, None, None)]
    for c in range(1, cycles + 1):
        out.append((f"{then}_rgb_{c}", "rgb", then, rgb, flow))
        rgb = f"{then}_rgb_{c}"
        if half and c == cycles:
            break
        out.append((f"{then}_flow_{c}", "flow", then, flow, rgb))
        flow = f"{then}_flow_{c}"
    return out


def final_checkpoint(cfg_file: str, opts, out_dir: str) -> str:
    """The path of a stage's last checkpoint (epoch MAX_EPOCH)."""
    from videossl.config import load_config
    from videossl.utils.checkpoint import checkpoint_dir, checkpoint_name

    cfg = load_config([cfg_file], list(opts) + ["OUTPUT_DIR", out_dir])
    return os.path.join(checkpoint_dir(out_dir), checkpoint_name("ssl", cfg.SOLVER.MAX_EPOCH))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="one folder per stage under it")
    p.add_argument("--method", choices=sorted(METHODS), default="coclr")
    p.add_argument("--cycles", type=int, default=1)
    p.add_argument("--half", action="store_true", help="stop after the last cycle's RGB stage")
    p.add_argument("--first", "--infonce", dest="first", help="config of the first (single-stream) stages")
    p.add_argument("--then", "--coclr", dest="then", help="config of the co-training stages")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides for every stage")
    a = p.parse_args(argv)
    first, then, role, defaults = METHODS[a.method]
    configs = {first: a.first or os.path.join(ROOT_DIR, defaults[0]),
               then: a.then or os.path.join(ROOT_DIR, defaults[1])}
    finals = {}
    for name, stream, kind, query, other in stages(a.cycles, a.half, a.method):
        out = os.path.join(a.root, name)
        opts = list(a.opts) + ["SSL.COCLR_STREAM", stream]
        if query:
            opts += ["TRAIN.INIT_FROM", f"['query={finals[query]}', '{role}={finals[other]}']"]
        finals[name] = final_checkpoint(configs[kind], opts, out)
        if os.path.isfile(finals[name]):
            print(f"{name}: done ({finals[name]})", flush=True)
            continue
        print(f"{name}: training in {out}", flush=True)
        cmd = [sys.executable, os.path.join(ROOT_DIR, "tools", "run_net.py"), "--cfg", configs[kind]] + opts + \
            ["OUTPUT_DIR", out]
        code = subprocess.call(cmd)
        if code != 0:
            print(f"coclr_cycle: stage {name} exited with status {code}; rerun the command to continue",
                  file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(run_main("coclr_cycle", main))
