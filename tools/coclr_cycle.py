#!/usr/bin/env python3
"""CoCLR's alternation as one command: InfoNCE on RGB and on flow, then cycles of CoCLR-RGB and CoCLR-flow.

    python tools/coclr_cycle.py --root output/coclr [--cycles 2] [--half] \\
        [--infonce configs/synthetic/coclr/InfoNCE_R10.yaml] [--coclr configs/synthetic/coclr/CoCLR_R10.yaml] \\
        [KEY VALUE ...]

Stages, each a ``tools/run_net.py`` job in its own ``ROOT/<stage>`` folder:

1. ``infonce_rgb``, ``infonce_flow``: the InfoNCE config with ``SSL.COCLR_STREAM`` rgb / flow;
2. for each cycle c: ``coclr_rgb_c`` (query = the newest RGB encoder, sampler =
   the newest flow encoder), then ``coclr_flow_c`` (query = the newest flow
   encoder, sampler = the RGB encoder just trained). This is CoCLR's
   ``--pretrain A B`` with ``--reverse`` for the flow turn. ``--half`` stops
   after the last ``coclr_rgb``.

A stage whose final checkpoint exists is skipped, and an interrupted stage
resumes from its own checkpoints (``TRAIN.AUTO_RESUME``). So rerunning the
command continues where it stopped. ``KEY VALUE`` overrides go to every stage.
"""

import argparse
import os
import subprocess
import sys

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT_DIR)

from tools.cli import run_main  # noqa: E402


def stages(cycles: int, half: bool):
    """``(name, stream, config kind, query stage, sampler stage)`` in order."""
    out = [("infonce_rgb", "rgb", "infonce", None, None), ("infonce_flow", "flow", "infonce", None, None)]
    rgb, flow = "infonce_rgb", "infonce_flow"
    for c in range(1, cycles + 1):
        out.append((f"coclr_rgb_{c}", "rgb", "coclr", rgb, flow))
        rgb = f"coclr_rgb_{c}"
        if half and c == cycles:
            break
        out.append((f"coclr_flow_{c}", "flow", "coclr", flow, rgb))
        flow = f"coclr_flow_{c}"
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
    p.add_argument("--cycles", type=int, default=1)
    p.add_argument("--half", action="store_true", help="stop after the last cycle's RGB stage")
    p.add_argument("--infonce", default=os.path.join(ROOT_DIR, "configs/synthetic/coclr/InfoNCE_R10.yaml"))
    p.add_argument("--coclr", default=os.path.join(ROOT_DIR, "configs/synthetic/coclr/CoCLR_R10.yaml"))
    p.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE overrides for every stage")
    a = p.parse_args(argv)
    configs = {"infonce": a.infonce, "coclr": a.coclr}
    finals = {}
    for name, stream, kind, query, sampler in stages(a.cycles, a.half):
        out = os.path.join(a.root, name)
        opts = list(a.opts) + ["SSL.COCLR_STREAM", stream]
        if query:
            opts += ["TRAIN.INIT_FROM", f"['query={finals[query]}', 'sampler={finals[sampler]}']"]
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
