"""Timing and memory figures of the PyTorch counterparts, measured as bench/measure.ts does.

median_ms: median of `steps` timed calls after `warmup` untimed ones; peak RSS: this process's
ru_maxrss. With --cpu-time the clock is this process's CPU time (all its threads) instead of wall
time: with one thread (OMP_NUM_THREADS=1) that is what a step costs whatever else the machine runs,
as `node build/bench/run.js --threads 1 --profile-cpu` measures morelora. report() prints one JSON
line with --json (the fields of `node build/bench/run.js --json` that both sides have), else one
line per figure.
"""

import json
import resource
import statistics
import sys
import time

import torch

CPU_TIME = "--cpu-time" in sys.argv
CLOCK = time.process_time if CPU_TIME else time.perf_counter


def median_ms(fn, steps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t = CLOCK()
        fn()
        times.append((CLOCK() - t) * 1000)
    return statistics.median(times)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(workload, ms, tokens=None, **extra):
    row = {"workload": workload, "framework": f"torch {torch.__version__}", "threads": torch.get_num_threads(),
           "clock": "cpu" if CPU_TIME else "wall", "ms_per_step": ms}
    if tokens:
        row["tokens_per_s"] = tokens / ms * 1000
    row.update(extra, peak_rss_mb=peak_rss_mb())
    if "--json" in sys.argv:
        print(json.dumps(row), flush=True)
    else:
        for k, v in row.items():
            print(f"{k:16} {v:.2f}" if isinstance(v, float) else f"{k:16} {v}", flush=True)
