#!/usr/bin/env python3
"""Times the book's OWN numpy code on seq4j's workloads, the numpy column of the performance comparison.

It contains none of the book's code: it imports it from a checkout of oreilly-japan/deep-learning-from-scratch-2
given with --book, builds the book's models with the workloads' sizes and times one step the way the book's
Trainer.fit does it: model.forward, model.backward, remove_duplicate, clip_grads(grads, 5.0), Adam.update.

  W1  Seq2seq(V=13, D=16, H=128), N=128, question 7 / answer 5 ids (decoder 4 steps): one training step
  W2  TimeLSTM(D=H=650), N=64, T=35: forward + backward with dhs = ones (loss = sum of all hidden states)
  W3  the encoder of AttentionSeq2seq(V=59, D=16, H=256) on one question, N=1, T=29: forward only
  W4  AttentionSeq2seq(V=59, D=16, H=256), N=128, question 29 / answer 11 ids (decoder 10 steps): one training step

Prints one JSON line per workload (median, min and max milliseconds over the measured repeats, after warm-up),
with the numpy version, its BLAS build and, if threadpoolctl is installed, the BLAS threads actually in use.
Set the BLAS threads in the environment, as for every other peer (2):

  OPENBLAS_NUM_THREADS=2 python3 bench/peers/numpy_book.py --book /path/to/deep-learning-from-scratch-2
  ... --workloads W2 --sweep      W2 for H in 128..1024 and T in 8..128 (D = H), the scaling sweep
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

try:
    import numpy as np
except ImportError:
    sys.exit("numpy_book.py: numpy is not installed for this python3 ({}); pip install numpy".format(sys.executable))

# warm-up and measured repeats per workload: about a second or more of measuring each on 2 cores
DEFAULT_REPEATS = {"W1": (20, 100), "W2": (2, 10), "W3": (50, 500), "W4": (2, 15)}
SWEEP_H = (128, 256, 512, 650, 1024)
SWEEP_T = (8, 35, 128)


def import_book(path):
    """Puts the book's root on sys.path and returns the pieces used here, imported from it."""
    root = os.path.abspath(path)
    for name in ("common", "ch07", "ch08"):
        if not os.path.isdir(os.path.join(root, name)):
            sys.exit(f"numpy_book.py: {root} does not look like deep-learning-from-scratch-2 (no {name}/ folder)")
    sys.path.insert(0, root)
    try:
        from common import config
        if getattr(config, "GPU", False):
            sys.exit("numpy_book.py: the book's common/config.py has GPU = True; this driver times its numpy path")
        from common.optimizer import Adam
        from common.time_layers import TimeLSTM
        from common.util import clip_grads
        from ch07.seq2seq import Seq2seq
        from ch08.attention_seq2seq import AttentionSeq2seq
    except ImportError as e:  # folders of those names without the book's code in them: one line, not a traceback
        sys.exit(f"numpy_book.py: cannot import the book's code from {root}: {e}")
    try:
        # the Trainer's module imports matplotlib; without it the step skips remove_duplicate, which finds
        # nothing to merge in these models (no tied weights) and only costs a scan of ~10 arrays
        from common.trainer import remove_duplicate
    except ImportError:
        remove_duplicate = None
    return dict(Adam=Adam, TimeLSTM=TimeLSTM, clip_grads=clip_grads, Seq2seq=Seq2seq,
                AttentionSeq2seq=AttentionSeq2seq, remove_duplicate=remove_duplicate)


def trainer_step(book, model, optimizer, xs, ts):
    """One step as the book's Trainer.fit takes it, with max_grad = 5.0."""
    loss = model.forward(xs, ts)
    model.backward()
    params, grads = model.params, model.grads
    if book["remove_duplicate"] is not None:
        params, grads = book["remove_duplicate"](params, grads)
    book["clip_grads"](grads, 5.0)
    optimizer.update(params, grads)
    return loss


def seq2seq_step(book, cls, V, D, H, N, t_enc, t_ans, seed):
    """A closure running one training step of the book's model on a fixed seeded batch of ids."""
    np.random.seed(seed)  # the book initialises its weights with np.random.randn
    model = book[cls](V, D, H)
    optimizer = book["Adam"]()  # lr 0.001, beta1 0.9, beta2 0.999 (eps 1e-7 inside)
    rng = np.random.default_rng(seed + 1)
    xs = rng.integers(0, V, size=(N, t_enc))
    ts = rng.integers(0, V, size=(N, t_ans))
    return lambda: trainer_step(book, model, optimizer, xs, ts)


def lstm_step(book, N, T, H, seed):
    """One TimeLSTM layer forward + backward, D = H, with the book's initial weights."""
    np.random.seed(seed)
    D = H
    Wx = (np.random.randn(D, 4 * H) / np.sqrt(D)).astype("f")
    Wh = (np.random.randn(H, 4 * H) / np.sqrt(H)).astype("f")
    b = np.zeros(4 * H).astype("f")
    layer = book["TimeLSTM"](Wx, Wh, b, stateful=False)
    xs = np.random.uniform(-1, 1, (N, T, D)).astype("f")
    dhs = np.ones((N, T, H), dtype="f")  # d(sum of hs) / d hs

    def step():  # the book's TimeLSTM.backward writes its grads (grads[i][...] = ...): nothing to zero
        hs = layer.forward(xs)
        layer.backward(dhs)
        return hs
    return step


def encoder_forward(book, V, D, H, T, seed):
    """The attention model's encoder on one question: embedding + TimeLSTM over T steps, N = 1."""
    np.random.seed(seed)
    model = book["AttentionSeq2seq"](V, D, H)
    xs = np.random.default_rng(seed + 1).integers(0, V, size=(1, T))
    return lambda: model.encoder.forward(xs)


def time_it(step, warmup, repeats):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def environment():
    env = {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }
    try:
        env["blas"] = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):  # numpy < 1.25 has no mode="dicts"
        env["blas"] = None
    try:
        from threadpoolctl import threadpool_info
        env["threadpools"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                              for p in threadpool_info()]
    except ImportError:
        env["threadpools"] = "threadpoolctl not installed"
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--book", required=True, help="checkout of oreilly-japan/deep-learning-from-scratch-2")
    ap.add_argument("--workloads", default="W1,W2,W3,W4", help="comma-separated subset of W1,W2,W3,W4")
    ap.add_argument("--sweep", action="store_true", help="W2 over H in 128..1024 and T in 8..128 instead of 650/35")
    ap.add_argument("--warmup", type=int, help="warm-up steps (default per workload)")
    ap.add_argument("--repeats", type=int, help="measured steps (default per workload)")
    ap.add_argument("--seed", type=int, default=1984)
    ap.add_argument("--check", action="store_true", help="import the book's code and stop (scripts/bench checks "
                    "SEQ4J_BOOK so before its JMH run)")
    args = ap.parse_args()

    book = import_book(args.book)
    if args.check:
        return
    env = environment()
    env["remove_duplicate"] = book["remove_duplicate"] is not None
    runs = []  # (workload, sizes, step)
    for w in args.workloads.split(","):
        w = w.strip()
        if w == "W1":
            runs.append((w, dict(V=13, D=16, H=128, N=128, T_enc=7, T_dec=4),
                         seq2seq_step(book, "Seq2seq", 13, 16, 128, 128, 7, 5, args.seed)))
        elif w == "W2":
            shapes = [(h, t) for h in SWEEP_H for t in SWEEP_T] if args.sweep else [(650, 35)]
            for h, t in shapes:
                runs.append((w, dict(N=64, T=t, D=h, H=h), lstm_step(book, 64, t, h, args.seed)))
        elif w == "W3":
            runs.append((w, dict(V=59, D=16, H=256, N=1, T=29), encoder_forward(book, 59, 16, 256, 29, args.seed)))
        elif w == "W4":
            runs.append((w, dict(V=59, D=16, H=256, N=128, T_enc=29, T_dec=10),
                         seq2seq_step(book, "AttentionSeq2seq", 59, 16, 256, 128, 29, 11, args.seed)))
        else:
            sys.exit(f"numpy_book.py: unknown workload '{w}' (expected W1, W2, W3 or W4)")

    for w, sizes, step in runs:
        warmup, repeats = DEFAULT_REPEATS[w]
        warmup = args.warmup if args.warmup is not None else warmup
        repeats = args.repeats if args.repeats is not None else repeats
        if repeats < 1:
            sys.exit("numpy_book.py: --repeats must be at least 1")
        times = time_it(step, warmup, repeats)
        print(json.dumps({
            "workload": w, "impl": "book-numpy", "sizes": sizes,
            "median_ms": round(statistics.median(times), 4), "min_ms": round(min(times), 4),
            "max_ms": round(max(times), 4), "warmup": warmup, "repeats": repeats, **env,
        }), flush=True)


if __name__ == "__main__":
    main()
