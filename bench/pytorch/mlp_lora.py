"""The mlp-lora workload of bench/workloads/mlp-lora.ts in PyTorch, for a side-by-side figure.

Run with a Python that has torch: python bench/pytorch/mlp_lora.py [--json]
Prints ms/step (median of 10 steps after 3 warm-up steps) and 1024^3 GEMM GFLOP/s.
"""

import json
import math
import statistics
import sys
import time

import torch


def median_ms(fn, steps=10, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def gemm_gflops(n=1024):
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / (median_ms(lambda: a @ b, 5, 2) / 1000) / 1e9


def mlp_lora_step(rows=4096, dim=768, hidden=3072, r=16, alpha=32):
    torch.manual_seed(0)
    fc1 = torch.nn.Linear(dim, hidden).requires_grad_(False)
    fc2 = torch.nn.Linear(hidden, dim).requires_grad_(False)

    def lora(in_f, out_f):
        a = torch.empty(r, in_f)
        torch.nn.init.kaiming_uniform_(a, a=math.sqrt(5))
        return a.requires_grad_(), torch.zeros(out_f, r, requires_grad=True)

    (a1, b1), (a2, b2) = lora(dim, hidden), lora(hidden, dim)
    scale = alpha / r
    x, target = torch.randn(rows, dim), torch.randn(rows, dim)
    opt = torch.optim.AdamW([a1, b1, a2, b2], lr=1e-3)

    def adapted(layer, a, b, inp):
        return layer(inp) + (inp @ a.t() @ b.t()) * scale

    def step():
        opt.zero_grad()
        h = torch.nn.functional.gelu(adapted(fc1, a1, b1, x))
        d = adapted(fc2, a2, b2, h) - target
        (d * d).mean().backward()
        opt.step()

    return step


if __name__ == "__main__":
    row = {
        "workload": "mlp-lora",
        "framework": f"torch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "ms_per_step": median_ms(mlp_lora_step()),
        "gflops_1024^3": gemm_gflops(),
    }
    if "--json" in sys.argv:
        print(json.dumps(row))
    else:
        for k, v in row.items():
            print(f"{k:16} {v:.2f}" if isinstance(v, float) else f"{k:16} {v}")
