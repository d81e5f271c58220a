#!/usr/bin/env python3
"""Two-stream (R+F) results, CoCLR's fusion, from an RGB and a flow evaluation saved with TEST.SAVE_RESULTS_PATH.

    python tools/run_net.py --cfg C.yaml TEST.SAVE_RESULTS_PATH outputs.pt OUTPUT_DIR out_rgb ...
    python tools/run_net.py --cfg C.yaml DATA.USE_FLOW True DATA.INPUT_STREAM flow \\
        TEST.SAVE_RESULTS_PATH outputs.pt OUTPUT_DIR out_flow ...
    python tools/fuse_streams.py out_rgb/outputs.pt out_flow/outputs.pt [--out fused.json]

Classification (topk evaluator): per-video probabilities averaged over the
two streams. Retrieval: per-stream centred, L2-normalised features
concatenated. Prints the results as JSON (and writes them with --out).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.cli import run_main  # noqa: E402


def main(argv=None):
    from videossl.engine.two_stream import fuse_results
    from videossl.utils.checkpoint import load_file

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rgb")
    p.add_argument("flow")
    p.add_argument("--out", default="")
    a = p.parse_args(argv)
    result = {"rgb": a.rgb, "flow": a.flow, **fuse_results(load_file(a.rgb), load_file(a.flow))}
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    return result


if __name__ == "__main__":
    sys.exit(run_main("fuse_streams", main))
