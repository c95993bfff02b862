"""morelora and its PyTorch counterparts on the same workloads, one process at a time, alternating.

For each round and workload: morelora (`node build/bench/run.js --json --only W`) and each PyTorch
counterpart under the chosen settings: `default`; `malloc`, glibc's allocator tuned as morelora's
addon tunes its own; `tuned`, that and idle OpenMP threads sleeping (OMP_WAIT_POLICY=passive), the
other setting morelora makes for itself (docs/performance.md). The order flips every round so
that drift in the machine's load falls on both sides. With --one-thread-cpu both sides run one
thread and are timed in process CPU time (morelora `--threads 1 --profile-cpu`, torch
OMP_NUM_THREADS=1 --cpu-time): a cost that the machine's load does not move. Prints one JSON line
per process (its figures plus the morelora workload it pairs with, round, side and the `uptime`
taken just before it), then ms/step and peak-RSS ratios morelora / torch per round.
Run from the repository root after `npm run build` (the driver itself needs no torch):
  python3 bench/pytorch/side_by_side.py --python /work/torch-venv/bin/python --rounds 2 mlp-lora llama-lora
"""

import argparse
import json
import os
import subprocess

MALLOC = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
SETTINGS = {"default": {}, "malloc": MALLOC, "tuned": {**MALLOC, "OMP_WAIT_POLICY": "passive"}}

# workload: the PyTorch scripts (with arguments) that compute the same step
COUNTERPARTS = {
    "mlp-lora": [["mlp_lora.py"]],
    "llama-lora": [["transformers_peft.py", "llama-lora", "--attn", "sdpa"], ["llama_adapter.py", "lora"]],
    "llama-dora": [["transformers_peft.py", "llama-dora", "--attn", "sdpa"], ["llama_adapter.py", "dora"]],
    **{w: [["transformers_peft.py", w, "--attn", "eager"]] for w in (
        "smollm2-135m-lora", "smollm2-135m-lora-ckpt", "smollm2-135m-lora-2048", "qwen2.5-0.5b-lora")},
    # morelora's float32-weight variant; the torch model is float32 in every case
    "smollm2-135m-lora-f32": [["transformers_peft.py", "smollm2-135m-lora", "--attn", "eager"]],
}


def run(cmd, workload, side, round_, env=None):
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    row.update(pair=workload, round=round_, side=side, uptime=uptime)
    if "--profile-cpu" in cmd:  # morelora's CPU ms per step: the sum of its kernels and the rest
        row["ms_per_step"] = sum(v for k, v in row.items() if k.startswith("ms "))
    print(json.dumps(row), flush=True)
    return row


def sides(workload, python, settings, one_thread_cpu):
    here = os.path.dirname(os.path.abspath(__file__))
    cpu = ["--threads", "1", "--profile-cpu"] if one_thread_cpu else []
    yield "morelora", ["node", "build/bench/run.js", "--json", "--only", workload, *cpu], None
    for script, *args in COUNTERPARTS[workload]:
        for setting in settings:
            cmd = [python, os.path.join(here, script), *args, "--json", *(["--cpu-time"] if one_thread_cpu else [])]
            env = {**SETTINGS[setting], **({"OMP_NUM_THREADS": "1"} if one_thread_cpu else {})}
            yield f"torch {' '.join([script, *args])} ({setting})", cmd, env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workloads", nargs="+", choices=sorted(COUNTERPARTS))
    ap.add_argument("--python", default="python3", help="a Python that has torch (and transformers + PEFT)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--one-thread-cpu", action="store_true", help="one thread each, timed in process CPU time")
    ap.add_argument("--settings", default="default,malloc,tuned", help="torch settings, of: " + ",".join(SETTINGS))
    opts = ap.parse_args()
    rows = []
    for r in range(1, opts.rounds + 1):
        for w in opts.workloads:
            order = list(sides(w, opts.python, opts.settings.split(","), opts.one_thread_cpu))
            for side, cmd, env in order if r % 2 else reversed(order):
                rows.append(run(cmd, w, side, r, env))
    for r in range(1, opts.rounds + 1):
        for w in opts.workloads:
            ours = next(x for x in rows if x["round"] == r and x["pair"] == w and x["side"] == "morelora")
            for x in rows:
                if x["round"] == r and x["pair"] == w and x["side"] != "morelora":
                    print(f"round {r} {w}: morelora / {x['side']}: ms/step {ours['ms_per_step'] / x['ms_per_step']:.2f}"
                          f", peak RSS {ours['peak_rss_mb'] / x['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
