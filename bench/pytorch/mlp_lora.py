"""The mlp-lora workload of bench/workloads/mlp-lora.ts in plain PyTorch, for a side-by-side figure.

Same shapes, GELU (erf), LoRA as x·Aᵀ·Bᵀ·scale, loss and AdamW. Prints ms/step (median of 10 steps
after 3 warm-up steps), peak RSS and the 1024³ GEMM GFLOP/s of the same process.
Run: python bench/pytorch/mlp_lora.py [--json]
"""

import math

import torch

from measure import median_ms, report


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
    report("mlp-lora", median_ms(mlp_lora_step(), 10, 3), **{"gflops_1024^3": gemm_gflops()})
