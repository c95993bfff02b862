"""The llama-lora / llama-dora workloads of bench/workloads/llama-adapter.ts in PyTorch.

A minimal Llama (RMSNorm, RoPE, causal SDPA, SwiGLU) with LoRA or DoRA (PEFT's formulas, norm
detached) on q_proj and v_proj; the same sizes, batch, loss and optimizer as the TypeScript one.
Plain PyTorch with SDPA attention: a lean baseline beside transformers_peft.py's llama-lora/llama-dora
(transformers' LlamaForCausalLM + PEFT). Prints ms/step (median of 10 steps after 3 warm-up steps)
and peak RSS.
Run: python bench/pytorch/llama_adapter.py [lora|dora] [--json]
"""

import math
import sys

import torch
import torch.nn.functional as F

from measure import median_ms, report

V, D, FF, L, H, B, S, R, ALPHA = 4096, 256, 1024, 4, 4, 8, 128, 8, 16


class Adapted(torch.nn.Module):
    def __init__(self, base, dora):
        super().__init__()
        self.base, self.dora = base.requires_grad_(False), dora
        self.A = torch.nn.Parameter(torch.empty(R, base.in_features))
        torch.nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = torch.nn.Parameter(torch.zeros(base.out_features, R))
        self.s = ALPHA / R
        if dora:
            self.m = torch.nn.Parameter(base.weight.norm(dim=1).detach().clone())

    def forward(self, x):
        lora = (x @ self.A.t() @ self.B.t()) * self.s
        if not self.dora:
            return self.base(x) + lora
        w = self.base.weight + self.s * self.B @ self.A
        c = self.m / w.norm(dim=1).detach()
        return (F.linear(x, self.base.weight) + lora) * c


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin


class Layer(torch.nn.Module):
    def __init__(self, dora):
        super().__init__()
        lin = lambda i, o: torch.nn.Linear(i, o, bias=False)
        self.q, self.k, self.v, self.o = Adapted(lin(D, D), dora), lin(D, D), Adapted(lin(D, D), dora), lin(D, D)
        self.gate, self.up, self.down = lin(D, FF), lin(D, FF), lin(FF, D)
        self.n1, self.n2 = torch.nn.RMSNorm(D, eps=1e-5), torch.nn.RMSNorm(D, eps=1e-5)

    def forward(self, x, cos, sin):
        h = self.n1(x)
        split = lambda t: t.view(B, S, H, D // H).transpose(1, 2)
        q, k, v = rope(split(self.q(h)), cos, sin), rope(split(self.k(h)), cos, sin), split(self.v(h))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, S, D)
        x = x + self.o(a)
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


def main(method):
    torch.manual_seed(1)
    emb, head, norm = torch.nn.Embedding(V, D), torch.nn.Linear(D, V, bias=False), torch.nn.RMSNorm(D, eps=1e-5)
    layers = torch.nn.ModuleList([Layer(method == "dora") for _ in range(L)])
    for mod in (emb, head, norm, layers):
        for n, p in mod.named_parameters():
            if not any(t in n for t in ("A", "B", ".m")):
                p.requires_grad_(False)
    inv = 1.0 / (10000 ** (torch.arange(0, D // H, 2).float() / (D // H)))
    ang = torch.outer(torch.arange(S).float(), inv)
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
    ids = torch.randint(0, V, (B, S + 1))
    params = [p for p in layers.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3)

    def step():
        opt.zero_grad()
        x = emb(ids[:, :-1])
        for layer in layers:
            x = layer(x, cos, sin)
        loss = F.cross_entropy(head(norm(x)).reshape(-1, V), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()

    report(f"llama-{method}", median_ms(step, 10, 3), B * S, model="minimal llama, sdpa")


if __name__ == "__main__":
    main("dora" if "dora" in sys.argv[1:] else "lora")
