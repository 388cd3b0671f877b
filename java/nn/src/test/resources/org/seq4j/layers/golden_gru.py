# Golden values for GoldenValuesTest.gruCellAndTimeGRUOfOneStep: one step of the book's appendix GRU
# (gates z, r, h; the reset gate multiplies h before Whh) in float64, written out from its equations,
# backward derived by hand and checked here by central differences. Run: python3 golden_gru.py
import numpy as np


def pat(n, scale, mul, mod, off):
    return np.array([scale * ((i * mul) % mod - off) for i in range(n)], dtype=np.float32).astype(np.float64)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


N, D, H = 2, 3, 2
x = pat(N * D, 0.1, 7, 11, 5).reshape(N, D)
Wx = pat(D * 3 * H, 0.05, 5, 13, 6).reshape(D, 3 * H)
Wh = pat(H * 3 * H, 0.07, 3, 7, 3).reshape(H, 3 * H)
b = pat(3 * H, 0.02, 1, 100, 4)
h_prev = pat(N * H, 0.3, 2, 5, 2).reshape(N, H)
dh_next = pat(N * H, 0.5, 3, 4, 1.5).reshape(N, H)


def forward(x, h_prev, Wx, Wh, b):
    Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
    Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
    bz, br, bh = b[:H], b[H:2 * H], b[2 * H:]
    z = sigmoid(x @ Wxz + h_prev @ Whz + bz)
    r = sigmoid(x @ Wxr + h_prev @ Whr + br)
    hh = np.tanh(x @ Wxh + (r * h_prev) @ Whh + bh)
    return (1 - z) * h_prev + z * hh, (z, r, hh)


h_next, (z, r, hh) = forward(x, h_prev, Wx, Wh, b)
Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
dhh = dh_next * z
dz = dh_next * (hh - h_prev)
dA_h = dhh * (1 - hh ** 2)
dA_z = dz * z * (1 - z)
drh = dA_h @ Whh.T
dA_r = drh * h_prev * r * (1 - r)
dA = np.concatenate([dA_z, dA_r, dA_h], axis=1)
dh_prev = dh_next * (1 - z) + drh * r + dA_z @ Whz.T + dA_r @ Whr.T
dx = dA @ Wx.T
dWx = x.T @ dA
dWh = np.concatenate([h_prev.T @ dA_z, h_prev.T @ dA_r, (r * h_prev).T @ dA_h], axis=1)
db = dA.sum(axis=0)


def numeric(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        keep = a[i]
        a[i] = keep + eps
        lp = f()
        a[i] = keep - eps
        lm = f()
        a[i] = keep
        g[i] = (lp - lm) / (2 * eps)
    return g


loss = lambda: np.sum(forward(x, h_prev, Wx, Wh, b)[0] * dh_next)
for name, a, g in [("x", x, dx), ("h_prev", h_prev, dh_prev), ("Wx", Wx, dWx), ("Wh", Wh, dWh), ("b", b, db)]:
    assert np.allclose(numeric(loss, a), g, atol=1e-8), name


def show(name, a):
    print("float[] %s = {%s};" % (name, ", ".join("%.9gf" % v for v in a.ravel())))


for name, a in [("hNext", h_next), ("dx", dx), ("dhPrev", dh_prev), ("dWx", dWx), ("dWh", dWh), ("db", db)]:
    show(name, a)
