# Regenerates the numbers pasted into GoldenValuesTest.java: python3 golden_values.py (numpy 2.4).
# Golden values for seq4j layer tests, from the book's formulas written out in numpy (float64).
import numpy as np
np.set_printoptions(precision=9, floatmode='maxprec')

def pat(n, scale, mul, mod, off):
    return np.array([np.float32(scale) * np.float32((i * mul) % mod - off) for i in range(n)], dtype=np.float32).astype(np.float64)

def sig(x): return 1 / (1 + np.exp(-x))
def fmt(a): return ", ".join("%.9gf" % v for v in np.asarray(a).ravel())

# ---- LSTM cell, N=2, D=3, H=2
N, D, H = 2, 3, 2
x = pat(N*D, 0.1, 7, 11, 5).reshape(N, D)
Wx = pat(D*4*H, 0.05, 5, 13, 6).reshape(D, 4*H)
Wh = pat(H*4*H, 0.07, 3, 7, 3).reshape(H, 4*H)
b = pat(4*H, 0.02, 1, 100, 4)
hp = pat(N*H, 0.3, 2, 5, 2).reshape(N, H)
cp = pat(N*H, 0.25, 3, 5, 2).reshape(N, H)
dhn = pat(N*H, 0.5, 3, 4, 1.5).reshape(N, H)
dcn = pat(N*H, 0.4, 1, 3, 1).reshape(N, H)
A = x @ Wx + hp @ Wh + b
f, g, i, o = sig(A[:, :H]), np.tanh(A[:, H:2*H]), sig(A[:, 2*H:3*H]), sig(A[:, 3*H:])
cn = f * cp + g * i
hn = o * np.tanh(cn)
tc = np.tanh(cn)
ds = dcn + dhn * o * (1 - tc**2)
dcp = ds * f
dA = np.hstack((ds * cp * f * (1 - f), ds * i * (1 - g**2), ds * g * i * (1 - i), dhn * tc * o * (1 - o)))
print("LSTM h_next", fmt(hn)); print("LSTM c_next", fmt(cn))
print("LSTM dx", fmt(dA @ Wx.T)); print("LSTM dh_prev", fmt(dA @ Wh.T)); print("LSTM dc_prev", fmt(dcp))
print("LSTM dWx", fmt(x.T @ dA)); print("LSTM dWh", fmt(hp.T @ dA)); print("LSTM db", fmt(dA.sum(0)))

# ---- TimeSoftmaxWithLoss, time-major (T=2, N=3, V=4), labels with -1
T, N, V = 2, 3, 4
xs = pat(T*N*V, 0.3, 5, 9, 4).reshape(T*N, V)
ts = np.array([3, -1, 0, 2, 1, -1])
e = np.exp(xs - xs.max(1, keepdims=True)); y = e / e.sum(1, keepdims=True)
mask = ts != -1
loss = -np.sum(np.log(y[np.arange(T*N), np.where(mask, ts, 0)]) * mask) / mask.sum()
dx = y.copy(); dx[np.arange(T*N), np.where(mask, ts, 0)] -= 1; dx /= mask.sum(); dx *= mask[:, None]
print("TSWL loss", "%.9g" % loss); print("TSWL dx", fmt(dx))

# ---- Attention: hs time-major (T=3, N=2, H=2), h (N, H), dc (N, H)
T, N, H = 3, 2, 2
hs_tm = pat(T*N*H, 0.4, 3, 7, 3).reshape(T, N, H)
h = pat(N*H, 0.6, 5, 7, 3).reshape(N, H)
dc = pat(N*H, 0.5, 2, 5, 2).reshape(N, H)
hs = hs_tm.transpose(1, 0, 2)                      # the book's (N, T, H)
s = np.sum(hs * h.reshape(N, 1, H), axis=2)
a = np.exp(s - s.max(1, keepdims=True)); a /= a.sum(1, keepdims=True)
c = np.sum(hs * a.reshape(N, T, 1), axis=1)
# WeightSum backward
dhs0 = dc.reshape(N, 1, H).repeat(T, 1) * a.reshape(N, T, 1)
da = np.sum(dc.reshape(N, 1, H) * hs, axis=2)
# AttentionWeight backward (softmax backward then the dot)
dsm = a * (da - np.sum(a * da, axis=1, keepdims=True))
dhs1 = dsm.reshape(N, T, 1) * h.reshape(N, 1, H)
dh = np.sum(dsm.reshape(N, T, 1) * hs, axis=1)
print("ATT a", fmt(a)); print("ATT c", fmt(c))
print("ATT dhs (time-major)", fmt((dhs0 + dhs1).transpose(1, 0, 2))); print("ATT dh", fmt(dh))

# ---- Adam, two steps, lr 0.01, on 5 params
p = pat(5, 0.2, 3, 5, 2); g1 = pat(5, 0.1, 2, 7, 3); g2 = pat(5, 0.3, 4, 5, 2)
m = np.zeros(5); v = np.zeros(5); lr, b1, b2 = 0.01, 0.9, 0.999
for it, g in enumerate((g1, g2), start=1):
    lrt = lr * np.sqrt(1 - b2**it) / (1 - b1**it)
    m += (1 - b1) * (g - m); v += (1 - b2) * (g**2 - v)
    p = p - lrt * m / (np.sqrt(v) + 1e-7)
print("ADAM p after 2 steps", fmt(p))

# ---- clip_grads: two grads, max_norm 0.5
ga = pat(4, 0.3, 3, 5, 2); gb = pat(3, 0.2, 1, 4, 1.5)
norm = np.sqrt(np.sum(ga**2) + np.sum(gb**2)); rate = 0.5 / (norm + 1e-6)
print("CLIP norm", "%.9g" % norm, "rate", "%.9g" % rate); print("CLIP ga", fmt(ga * min(rate, 1))); print("CLIP gb", fmt(gb * min(rate, 1)))
