#!/usr/bin/env python3
"""PyTorch peer timings on one NVIDIA GPU, for comparison with seq4j's CUDA backend.

Times one full training step (zero grads, forward, loss, backward, global-norm clip, optimizer step) of:
  addition  the book's seq2seq on the addition task: V=13, encoder T=7, decoder T=4, D=16, H=128, N=128;
            Embedding -> nn.LSTM encoder, its last h starts the decoder's Embedding -> nn.LSTM -> Linear;
            cross-entropy over the 4 decoder steps, clip 5.0, Adam (lr 1e-3) - ch07's train_seq2seq.py set-up.
  rnnlm     the book's BetterRnnlm size: V=10000, D=H=650, 2 LSTM layers, dropout 0.5, weight tying, N=20, T=35;
            clip 0.25, SGD lr 20 - ch06's train_better_rnnlm.py set-up.
Data are random ids made once on the GPU (seeded): loading is not timed, as in seq4j's JMH benches.

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
    p.add_argument("--which", choices=["addition", "rnnlm", "all"], default="all")
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
    builders = {"addition": build_addition, "rnnlm": build_rnnlm}
    names = list(builders) if args.which == "all" else [args.which]
    for name in names:
        step, shape, model = builders[name](torch, nn, device)
        timing = time_steps(torch, step, args.steps, args.warmup)
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
