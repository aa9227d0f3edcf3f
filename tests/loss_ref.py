#!/usr/bin/env python3
"""Independent reference for trainer/loss.c, used by tests/unit/trainer_loss.c.

Written from the loss definitions (research topics 120 and 155), not from loss.c: CZAR's
softening term uses its closed forms (the loss of predicting eps_eff at truth 0 is
A = (1+d^2)(atan(eps+d) - atan d), because eps_eff solves b x^2 + x = A), and each region
is a separate function.

stdin: lines "method y_true y_pred sigma alpha epsilon tau loss grad hess" (grad and hess
are "nan" for other methods than czar).  Prints one line per mismatch and exits 1 when
there was one; prints "checked N" at the end.
"""
import math
import sys

SIGMA_MIN = 1e-9          # trainer/loss.h LOSS_SIGMA_MIN


def zscore(y, sigma):
    return y / (sigma if sigma > SIGMA_MIN else SIGMA_MIN)


def mse(yt, yp):
    return (yt - yp) ** 2


def zptae(yt, yp, sigma):
    a, b, g, pen = 0.25, 2.0, 4.0, 0.01

    def pt(x):
        if abs(x) > 1e100:
            return math.copysign(abs(x) ** a, x)
        return x * (1.0 + abs(x) ** b) ** (-(1.0 - a) / b)

    zt, zp = zscore(yt, sigma), zscore(yp, sigma)
    return abs(pt(zt) - pt(zp)) + (pen * abs(zp - zt)) ** g


def curv(x):
    """|d/dx 1/(1+x^2)|"""
    return 2.0 * abs(x) / (1.0 + x * x) ** 2


class Czar:
    def __init__(self, alpha, eps, tau):
        self.d = alpha / math.sqrt(3.0)
        self.k = 1.0 + self.d * self.d
        self.eps, self.tau = eps, tau

    def sgn(self, x):
        return -1.0 if x < 0 else 1.0

    def wrong(self, zt, zp):
        s, d, k = self.sgn(zt), self.d, self.k
        h1 = k * curv(d)
        base = s * k * (math.atan(zt + s * d) - math.atan(s * d))
        return 0.5 * h1 * zp * zp - s * zp + base

    def under(self, zt, zp):
        s, d, k = self.sgn(zt), self.d, self.k
        return s * k * (math.atan(zt + s * d) - math.atan(zp + self.sgn(zp) * d))

    def over(self, zt, zp):
        s, d, k = self.sgn(zt), self.d, self.k
        dt = zt + s * d
        m = min(k * curv(d), k * curv(dt))
        return 0.5 * m * (zp - zt) ** 2 + s * k / (1.0 + dt * dt) * (zp - zt)

    def region(self, zt, zp):
        u = self.sgn(zt) * zp
        if u <= 0:
            return 1
        return 2 if u <= abs(zt) else 3

    def soft(self, zt):
        if self.eps <= 0:
            return 0.0
        d, k = self.d, self.k
        A = k * (math.atan(self.eps + d) - math.atan(d))      # = loss(0 -> eps_eff)
        # b x^2 + x - A = 0, b = d / k; the denominator of the weight is that A again.
        w_min = 1.0 - k * (math.atan(abs(zt) + d) - math.atan(d)) / A
        if self.tau > 0:
            w_inf = 1.0 - k * (math.pi / 2 - math.atan(d)) / A
            te = self.tau * abs(w_inf)
            if te > 0:
                def sp(x):
                    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
                return A * sp(w_min / te) / sp(1.0 / te)
        return A * max(w_min, 0.0)

    def loss(self, yt, yp, sigma):
        zt, zp = zscore(yt, sigma), zscore(yp, sigma)
        f = {1: self.wrong, 2: self.under, 3: self.over}[self.region(zt, zp)]
        return f(zt, zp) + self.soft(zt)

    def grad_hess(self, yt, yp, sigma):
        sg = sigma if sigma > SIGMA_MIN else SIGMA_MIN
        zt, zp = yt / sg, yp / sg
        s, d, k = self.sgn(zt), self.d, self.k
        r = self.region(zt, zp)
        if r == 1:
            g, h = k * curv(d) * zp - s, k * curv(d)
        elif r == 2:
            dp = zp + self.sgn(zp) * d
            g, h = -s * k / (1.0 + dp * dp), k * curv(dp)
        else:
            m = min(k * curv(d), k * curv(zt + s * d))
            g, h = m * (zp - zt), m
        return g / sg, h / (sg * sg)


def close(a, b, rel=1e-9):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def main():
    bad = n = 0
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        meth = f[0]
        yt, yp, sg, al, ep, ta, l, g, h = map(float, f[1:])
        if meth == "mse":
            want = (mse(yt, yp), None)
        elif meth == "zptae":
            want = (zptae(yt, yp, sg), None)
        elif meth == "czar":
            c = Czar(al, ep, ta)
            want = (c.loss(yt, yp, sg), c.grad_hess(yt, yp, sg))
        else:
            print("unknown method", meth)
            return 1
        n += 1
        ok = close(l, want[0])
        if want[1] is not None:
            ok = ok and close(g, want[1][0]) and close(h, want[1][1])
        if not ok:
            bad += 1
            if bad <= 20:
                print("mismatch:", line.strip(), "python:", want)
    print("checked", n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
