#!/usr/bin/env python3
"""PyTorch peer timings on one NVIDIA GPU, for comparison with seq4j's CUDA backend.

Times one full training step (zero grads, forward, loss, backward, global-norm clip, optimizer step) of:
  addition  (= seq4j's W1) the book's seq2seq on the addition task: V=13, encoder T=7, decoder T=4, D=16, H=128,
            N=128; Embedding -> nn.LSTM encoder, its last h starts the decoder's Embedding -> nn.LSTM -> Linear;
            cross-entropy over the 4 decoder steps, clip 5.0, Adam (lr 1e-3) - ch07's train_seq2seq.py set-up.
  rnnlm     the book's BetterRnnlm size: V=10000, D=H=650, 2 LSTM layers, dropout 0.5, weight tying, N=20, T=35;
            clip 0.25, SGD lr 20 - ch06's train_better_rnnlm.py set-up.
  attention (= W4) the book's AttentionSeq2seq at date-set sizes: V=59, encoder T=29, decoder T=10, D=16, H=256,
            N=128; dot-product attention over all encoder states, [context | h] -> Linear; clip 5.0, Adam.
and, on the shapes of seq4j's kernel benchmarks (JMH: GemmBench, LstmCellBench, W2LstmStepBench):
  gemm      C (m, n) = A (m, k) . B (k, n) for each --gemm m x n x k, then torch.cuda.synchronize()
  lstm_cell one LSTM cell's elementwise work forward and backward for each --cell N x H: PyTorch's fused CUDA
            cell (torch._thnn_fused_lstm_cell, what nn.LSTMCell uses) under autograd, then synchronize
  w2        one nn.LSTM layer (cuDNN) forward and backward, N=64, T=35, D=H for each --w2-hidden H
The kernel workloads are timed like the JMH benchmarks: host wall time of the call plus a synchronize.
Data are random ids made once on the GPU (seeded): loading is not timed, as in seq4j's JMH benches.

Every nn.LSTM a workload times is first run for two steps against the LSTM's formula (float64 numpy) and the run
stops, naming it, where one computes something else; the JSON gives each workload's largest difference.
Each timed step is bracketed by CUDA events on the current stream and ends with torch.cuda.synchronize()
inside the timed region, so the time is the GPU's work, not the launch queue. Medians in milliseconds are
printed as one JSON object (and written to --json-out if given). FP32 throughout: TF32 is off for matmuls
and cuDNN unless --tf32, so the numbers compare with seq4j's default FP32 cuBLAS mode.

Usage: python3 bench/peers/pytorch_cuda.py [--which addition|rnnlm|all] [--steps 50] [--warmup 10]
"""
import argparse
import json
import statistics
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--which", default="all",
                   help="comma-separated: addition, rnnlm, attention, gemm, lstm_cell, w2, or all")
    p.add_argument("--gemm", default="64x64x64,128x128x128,256x256x256,512x512x512,1024x1024x1024,"
                                     "128x512x128,64x2600x650,2240x2600x650", help="GemmBench's m x n x k list")
    p.add_argument("--cell", default="128x128,20x650,64x650,1x256", help="LstmCellBench's N x H list")
    p.add_argument("--w2-hidden", default="650,1024,2048", help="W2's hidden sizes H (= D), N=64, T=35")
    p.add_argument("--steps", type=int, default=50, help="timed steps per model (median reported)")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first (cuDNN plans, allocator)")
    p.add_argument("--tf32", action="store_true", help="allow TF32 tensor cores (default: strict FP32)")
    p.add_argument("--seed", type=int, default=1984)
    p.add_argument("--json-out", help="also write the JSON result to this file")
    return p.parse_args(argv)


def build_addition(torch, nn, device):
    V, D, H, N, T_ENC, T_DEC = 13, 16, 128, 128, 7, 4

    class Seq2seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc_embed = nn.Embedding(V, D)
            self.enc_lstm = nn.LSTM(D, H, batch_first=True)
            self.dec_embed = nn.Embedding(V, D)
            self.dec_lstm = nn.LSTM(D, H, batch_first=True)
            self.dec_affine = nn.Linear(H, V)

        def forward(self, xs, dec_xs):
            _, (h, _) = self.enc_lstm(self.enc_embed(xs))          # h (1, N, H): the encoder's last state
            c0 = torch.zeros_like(h)                                # the book sets h only; c starts at 0
            out, _ = self.dec_lstm(self.dec_embed(dec_xs), (h, c0))
            return self.dec_affine(out)                             # (N, T_DEC, V)

    model = Seq2seq().to(device)
    g = torch.Generator(device=device).manual_seed(1)
    xs = torch.randint(0, V, (N, T_ENC), device=device, generator=g)
    answer = torch.randint(0, V, (N, T_DEC + 1), device=device, generator=g)
    dec_xs, dec_ts = answer[:, :-1].contiguous(), answer[:, 1:].contiguous()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=False)
        logits = model(xs, dec_xs)
        loss = loss_fn(logits.reshape(-1, V), dec_ts.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        return loss

    shape = dict(V=V, D=D, H=H, N=N, T_encoder=T_ENC, T_decoder=T_DEC, optimizer="Adam", clip=5.0)
    return step, shape, model


def build_rnnlm(torch, nn, device):
    V, D, H, N, T, LAYERS, DROPOUT = 10000, 650, 650, 20, 35, 2, 0.5

    class BetterRnnlm(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, D)
            self.drop = nn.Dropout(DROPOUT)
            self.lstm = nn.LSTM(D, H, num_layers=LAYERS, dropout=DROPOUT, batch_first=True)
            self.affine = nn.Linear(H, V)
            self.affine.weight = self.embed.weight                 # weight tying (D == H)

        def forward(self, xs, state):
            out, state = self.lstm(self.drop(self.embed(xs)), state)
            return self.affine(self.drop(out)), state

    model = BetterRnnlm().to(device)
    model.train()
    g = torch.Generator(device=device).manual_seed(2)
    xs = torch.randint(0, V, (N, T), device=device, generator=g)
    ts = torch.randint(0, V, (N, T), device=device, generator=g)
    optimizer = torch.optim.SGD(model.parameters(), lr=20.0)
    loss_fn = nn.CrossEntropyLoss()
    state = [(torch.zeros(LAYERS, N, H, device=device), torch.zeros(LAYERS, N, H, device=device))]

    def step():
        # truncated BPTT: carry the state over, cut from the graph, as the book's stateful TimeLSTM does
        h, c = (s.detach() for s in state[0])
        optimizer.zero_grad(set_to_none=False)
        logits, new_state = model(xs, (h, c))
        loss = loss_fn(logits.reshape(-1, V), ts.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        state[0] = new_state
        return loss

    shape = dict(V=V, D=D, H=H, layers=LAYERS, N=N, T=T, dropout=DROPOUT, tied=True, optimizer="SGD", clip=0.25)
    return step, shape, model


def build_attention(torch, nn, device):
    V, D, H, N, T_ENC, T_DEC = 59, 16, 256, 128, 29, 10

    class AttentionSeq2seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc_embed = nn.Embedding(V, D)
            self.enc_lstm = nn.LSTM(D, H, batch_first=True)
            self.dec_embed = nn.Embedding(V, D)
            self.dec_lstm = nn.LSTM(D, H, batch_first=True)
            self.dec_affine = nn.Linear(2 * H, V)

        def forward(self, xs, dec_xs):
            hs, (h, _) = self.enc_lstm(self.enc_embed(xs))              # hs (N, T_ENC, H)
            out, _ = self.dec_lstm(self.dec_embed(dec_xs), (h, torch.zeros_like(h)))   # (N, T_DEC, H)
            a = torch.softmax(torch.bmm(out, hs.transpose(1, 2)), dim=-1)          # (N, T_DEC, T_ENC)
            c = torch.bmm(a, hs)                                                    # (N, T_DEC, H)
            return self.dec_affine(torch.cat([c, out], dim=-1))                     # (N, T_DEC, V)

    model = AttentionSeq2seq().to(device)
    g = torch.Generator(device=device).manual_seed(3)
    xs = torch.randint(0, V, (N, T_ENC), device=device, generator=g)
    answer = torch.randint(0, V, (N, T_DEC + 1), device=device, generator=g)
    dec_xs, dec_ts = answer[:, :-1].contiguous(), answer[:, 1:].contiguous()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(xs, dec_xs).reshape(-1, V), dec_ts.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        return loss

    shape = dict(V=V, D=D, H=H, N=N, T_encoder=T_ENC, T_decoder=T_DEC, optimizer="Adam", clip=5.0)
    return step, shape, model


def dims(text):
    return [int(x) for x in text.lower().split("x")]


def time_wall(torch, call, steps, warmup):
    """Median host wall time of call() + synchronize, in ms: what a JMH benchmark that ends with
    backend.synchronize() measures."""
    for _ in range(warmup):
        call()
    torch.cuda.synchronize()
    wall_ms = []
    for _ in range(steps):
        t0 = time.perf_counter()
        call()
        torch.cuda.synchronize()
        wall_ms.append((time.perf_counter() - t0) * 1e3)
    return {"median_wall_ms": statistics.median(wall_ms), "min_wall_ms": min(wall_ms), "steps": steps,
            "warmup": warmup}


def kernel_workloads(torch, nn, device, args, names):
    """gemm, lstm_cell and w2 on the JMH benchmarks' shapes: {key: timing}."""
    out = {}
    steps, warmup = max(args.steps, 20), max(args.warmup, 5)
    if "gemm" in names:
        for mnk in args.gemm.split(","):
            m, n, k = dims(mnk)
            a = torch.rand(m, k, device=device) * 2 - 1
            b = torch.rand(k, n, device=device) * 2 - 1
            c = torch.empty(m, n, device=device)
            t = time_wall(torch, lambda: torch.matmul(a, b, out=c), steps * 4, warmup)
            t["shape"] = dict(m=m, n=n, k=k)
            t["gflops"] = 2.0 * m * n * k / (t["median_wall_ms"] * 1e6)
            out["gemm/" + mnk] = t
    if "lstm_cell" in names:
        for nh in args.cell.split(","):
            n, h = dims(nh)
            pre = (torch.rand(n, 4 * h, device=device) * 6 - 3).requires_grad_()
            zeros = torch.zeros(n, 4 * h, device=device)
            c_prev = (torch.rand(n, h, device=device) * 2 - 1).requires_grad_()
            dh = torch.rand(n, h, device=device) * 2 - 1
            dc = torch.rand(n, h, device=device) * 2 - 1
            fused = hasattr(torch, "_thnn_fused_lstm_cell")
            if fused:
                try:
                    torch._thnn_fused_lstm_cell(pre, zeros, c_prev)
                except (RuntimeError, TypeError):    # a private op: its signature may change
                    fused = False

            def cell():
                if fused:   # input gates + hidden gates (0 here: the GEMMs are not timed), c_prev
                    hy, cy, _ = torch._thnn_fused_lstm_cell(pre, zeros, c_prev)
                else:       # the same maths in eager ops (i, f, g, o as PyTorch orders them)
                    i, f, g, o = pre.chunk(4, 1)
                    cy = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
                    hy = torch.sigmoid(o) * torch.tanh(cy)
                torch.autograd.backward([hy, cy], [dh, dc])
            t = time_wall(torch, cell, steps * 4, warmup)
            t["shape"] = dict(N=n, H=h, fused=fused)
            out["lstm_cell/" + nh] = t
    if "w2" in names:
        for h in (int(x) for x in args.w2_hidden.split(",")):
            n, t_steps = 64, 35
            lstm = nn.LSTM(h, h).to(device)                   # time-major (T, N, D), as seq4j's W2
            checked = check_lstms(torch, nn, device, "w2/h=%d" % h, lstm, args.tf32)
            xs = torch.rand(t_steps, n, h, device=device) * 2 - 1
            dhs = torch.rand(t_steps, n, h, device=device) * 2 - 1

            def fwd_bwd():
                lstm.zero_grad(set_to_none=False)
                hs, _ = lstm(xs)
                hs.backward(dhs)
            t = time_wall(torch, fwd_bwd, steps, warmup)
            t["shape"] = dict(N=n, T=t_steps, D=h, H=h)
            t["lstm_formula_max_diff"] = checked
            out["w2/h=%d" % h] = t
            del lstm
            torch.cuda.empty_cache()
    return out


def lstm_formula(x, layers):
    """An LSTM over x (N, T, D) from zero state in float64 numpy: layers = [(W_ih, W_hh, b_ih + b_hh)] in PyTorch's
    layout (gate blocks i, f, g, o). Returns the last layer's hidden states (N, T, H)."""
    import numpy as np
    sig = lambda v: 1 / (1 + np.exp(-v))
    out = np.asarray(x, np.float64)
    for w_ih, w_hh, b in layers:
        n, t, _ = out.shape
        hidden = w_hh.shape[1]
        h, c, hs = np.zeros((n, hidden)), np.zeros((n, hidden)), np.zeros((n, t, hidden))
        for s in range(t):
            a = out[:, s] @ w_ih.T + h @ w_hh.T + b
            i, f, g, o = (a[:, k * hidden:(k + 1) * hidden] for k in range(4))
            c = sig(f) * c + sig(i) * np.tanh(g)
            h = sig(o) * np.tanh(c)
            hs[:, s] = h
        out = hs
    return out


def lstm_formula_difference(torch, lstm, device):
    """max |hidden state - lstm_formula| of an nn.LSTM (unidirectional, no projection) on 2 rows x 2 steps of inputs
    in [-1, 1), zero state, eval mode (no dropout) and no autograd; the module is left in the mode it was in.
    A peer must compute what it is timed against: on a Zen 5 CPU, PyTorch 2.7.1's LSTM (oneDNN's AVX-512 kernels)
    gave another function wherever H is no multiple of 32 (bench/RESULTS.md, 2026-12-04)."""
    import numpy as np
    if lstm.bidirectional or getattr(lstm, "proj_size", 0):
        raise ValueError("lstm_formula_difference: a unidirectional LSTM without projection only")
    g = torch.Generator(device="cpu").manual_seed(7)
    x = torch.rand(2, 2, lstm.input_size, generator=g) * 2 - 1          # (N, T, D)
    layers = []
    for k in range(lstm.num_layers):
        w = lambda name: getattr(lstm, "%s_l%d" % (name, k)).detach().double().cpu().numpy()
        b = w("bias_ih") + w("bias_hh") if lstm.bias else 0.0
        layers.append((w("weight_ih"), w("weight_hh"), b))
    was_training = lstm.training
    lstm.eval()
    try:
        with torch.no_grad():
            got, _ = lstm(x.to(device) if lstm.batch_first else x.transpose(0, 1).contiguous().to(device))
    finally:
        lstm.train(was_training)
    got = got.double().cpu().numpy()
    if not lstm.batch_first:
        got = got.transpose(1, 0, 2)
    return float(np.max(np.abs(got - lstm_formula(x.double().numpy(), layers))))


def check_lstms(torch, nn, device, name, module, tf32):
    """Every nn.LSTM in module against the formula: the largest difference, or SystemExit naming the workload where
    one computes something else (float32: ~1e-7; TF32 products: ~1e-3)."""
    bound = 1e-2 if tf32 else 1e-4
    worst = 0.0
    for lstm in (m for m in module.modules() if isinstance(m, nn.LSTM)):
        diff = lstm_formula_difference(torch, lstm, device)
        if not diff <= bound:
            raise SystemExit("pytorch_cuda.py: %s: PyTorch's nn.LSTM (D=%d, H=%d) differs from the LSTM's formula by "
                             "%.3g (bound %g): a peer that computes something else is no peer"
                             % (name, lstm.input_size, lstm.hidden_size, diff, bound))
        worst = max(worst, diff)
    return worst


def time_steps(torch, step, steps, warmup):
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    stream = torch.cuda.current_stream()
    event_ms, wall_ms = [], []
    for _ in range(steps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        t0 = time.perf_counter()
        start.record(stream)
        step()
        end.record(stream)
        torch.cuda.synchronize()                                  # inside the timed region
        wall_ms.append((time.perf_counter() - t0) * 1e3)
        event_ms.append(start.elapsed_time(end))
    return {
        "median_ms": statistics.median(event_ms),
        "median_wall_ms": statistics.median(wall_ms),
        "min_ms": min(event_ms),
        "steps": steps,
        "warmup": warmup,
    }


def main(argv):
    args = parse_args(argv)
    try:
        import torch
        from torch import nn
    except ImportError:
        print(json.dumps({"error": "PyTorch is not installed (pip install torch)"}))
        return 2
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch.cuda.is_available() is False: no GPU or no CUDA build of PyTorch",
                          "torch": torch.__version__}))
        return 2

    torch.manual_seed(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")

    result = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "gpu": torch.cuda.get_device_name(device),
        "capability": ".".join(map(str, torch.cuda.get_device_capability(device))),
        "tf32": args.tf32,
        "workloads": {},
    }
    builders = {"addition": build_addition, "rnnlm": build_rnnlm, "attention": build_attention}
    kernels = ["gemm", "lstm_cell", "w2"]
    names = list(builders) + kernels if args.which == "all" else args.which.split(",")
    unknown = [n for n in names if n not in builders and n not in kernels]
    if unknown:
        print(json.dumps({"error": "unknown workload(s) %s; known: %s" % (unknown, list(builders) + kernels)}))
        return 2
    result["kernels"] = kernel_workloads(torch, nn, device, args, names)
    for name in [n for n in names if n in builders]:
        step, shape, model = builders[name](torch, nn, device)
        checked = check_lstms(torch, nn, device, name, model, args.tf32)
        timing = time_steps(torch, step, args.steps, args.warmup)
        timing["lstm_formula_max_diff"] = checked
        timing["shape"] = shape
        timing["parameters"] = sum(p.numel() for p in model.parameters())
        result["workloads"][name] = timing
        del step, model
        torch.cuda.empty_cache()

    text = json.dumps(result, indent=2)
    print(text)
    if args.json_out:
        with open(args.json_out + ".tmp", "w") as f:
            f.write(text + "\n")
        import os
        os.replace(args.json_out + ".tmp", args.json_out)        # atomic: no half-written result file
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
