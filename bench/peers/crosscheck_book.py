#!/usr/bin/env python3
"""Checks that a PyTorch-through-DJL peer computes what the book's numpy model computes.

Reads what PeerDump wrote (the peer's initial weights, batch, loss, first gradients and the weights after a few
clip + Adam steps), loads those weights into the book's own Seq2seq / AttentionSeq2seq, imported from --book
(none of its code is here), and compares the loss, every gradient and the trained weights. Exits 1 on a mismatch.

  java -Dai.djl.offline=true -DPYTORCH_FLAVOR=cpu -cp bench/target/peers/benchmarks.jar \\
       org.seq4j.bench.peers.PeerDump seq2seq /tmp/peer-w1
  python3 bench/peers/crosscheck_book.py --book /path/to/deep-learning-from-scratch-2 --kind seq2seq /tmp/peer-w1

Layouts: PyTorch keeps an LSTM's W_ih (4H, D) and W_hh (4H, H) with gate blocks i, f, g, o, plus two biases
(the peer freezes b_hh at zero); the book keeps Wx (D, 4H) and Wh (H, 4H) with columns f, g, i, o and one b.
"""
import argparse
import os
import sys

try:
    import numpy as np
except ImportError:
    sys.exit("crosscheck_book.py: numpy is not installed for this python3 ({}); pip install numpy".format(sys.executable))

# book gate k (f, g, i, o) is PyTorch's gate block TORCH_BLOCK[k] (i, f, g, o)
TORCH_BLOCK = (1, 2, 0, 3)
BOOK_NAMES = ("embed.W", "lstm.Wx", "lstm.Wh", "lstm.b")
# tolerances, |got - ref| <= atol + rtol * max|ref| per array:
#  loss and gradients: the same float32 maths in another order (fused LSTM, batched attention): rtol 1e-5
#  weights after a few Adam steps: m / (sqrt(v) + 1e-7) amplifies float32 noise where a gradient is ~1e-7,
#  by at most a fraction of one lr (1e-3) step per step: atol 1e-5
GRAD_RTOL, GRAD_ATOL = 1e-5, 1e-9
TRAINED_RTOL, TRAINED_ATOL = 1e-5, 1e-5


def to_book_lstm(w_ih, w_hh, b_ih):
    """PyTorch (4H, D), (4H, H), (4H) in blocks i, f, g, o -> the book's Wx (D, 4H), Wh (H, 4H), b (4H) in f, g, i, o."""
    H = w_hh.shape[1]
    blocks = lambda a: [a[j * H:(j + 1) * H] for j in TORCH_BLOCK]
    return (np.concatenate([blk.T for blk in blocks(w_ih)], axis=1),
            np.concatenate([blk.T for blk in blocks(w_hh)], axis=1),
            np.concatenate(blocks(b_ih)))


def book_arrays(load, prefix):
    """The peer's arrays named prefix.* in the book's model.params order: encoder, decoder, affine."""
    out = []
    for part in ("encoder", "decoder"):
        out.append(load(f"{prefix}.{part}.embed.W"))
        lstm = lambda n: load(f"{prefix}.{part}.lstm.l_0_{n}")
        out += to_book_lstm(lstm("i2h_WEIGHT"), lstm("h2h_WEIGHT"), lstm("i2h_BIAS"))
    return out + [load(f"{prefix}.decoder.affine.W"), load(f"{prefix}.decoder.affine.b")]


def compare(label, got, ref, rtol, atol):
    diff = np.abs(np.asarray(got, np.float64) - ref)
    bound = atol + rtol * np.max(np.abs(ref))
    i = np.unravel_index(np.argmax(diff), diff.shape) if diff.ndim else ()
    ok = diff.max() <= bound
    print(f"{'ok  ' if ok else 'FAIL'} {label:28s} max|diff| {diff.max():.3e} at {tuple(int(k) for k in i)} "
          f"(book {np.asarray(ref)[i]:.6g}, peer {np.asarray(got)[i]:.6g}), bound {bound:.3e}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--book", required=True, help="checkout of oreilly-japan/deep-learning-from-scratch-2")
    ap.add_argument("--kind", required=True, choices=("seq2seq", "attention"))
    ap.add_argument("dump", help="the folder PeerDump wrote")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.book))
    from common.optimizer import Adam
    from common.util import clip_grads
    if args.kind == "attention":
        from ch08.attention_seq2seq import AttentionSeq2seq as Model
    else:
        from ch07.seq2seq import Seq2seq as Model

    load = lambda name: np.load(os.path.join(args.dump, name + ".npy"))
    xs, ts = load("xs"), load("ts")
    start = book_arrays(load, "param")
    V, D = start[0].shape
    H = start[2].shape[0]
    model = Model(V, D, H)
    names = [f"{part}.{n}" for part in ("encoder", "decoder") for n in BOOK_NAMES] + ["decoder.affine.W", "decoder.affine.b"]
    for p, v in zip(model.params, start, strict=True):
        if p.shape != v.shape:
            sys.exit(f"crosscheck_book.py: shape {v.shape} from the dump does not fit the book's {p.shape}")
        p[...] = v

    ok = True
    loss = model.forward(xs, ts)
    model.backward()
    ok &= compare("loss", float(open(os.path.join(args.dump, "loss.txt")).read()), np.float64(loss), GRAD_RTOL, GRAD_ATOL)
    # PyTorch's b_ih gradient is the book's db (b_hh is frozen, and would have the same gradient)
    for n, g, ref in zip(names, book_arrays(load, "grad"), model.grads, strict=True):
        ok &= compare("grad " + n, g, ref, GRAD_RTOL, GRAD_ATOL)

    # the book's Trainer step: clip_grads(5.0) then Adam; the first step's gradients are already there
    steps = int(open(os.path.join(args.dump, "steps.txt")).read())
    optimizer = Adam()
    for i in range(steps):
        if i > 0:
            model.forward(xs, ts)
            model.backward()
        clip_grads(model.grads, 5.0)
        optimizer.update(model.params, model.grads)
    for n, w, ref in zip(names, book_arrays(load, "trained"), model.params, strict=True):
        ok &= compare(f"after {steps} steps {n}", w, ref, TRAINED_RTOL, TRAINED_ATOL)
    print("crosscheck_book.py:", "the peer matches the book" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
