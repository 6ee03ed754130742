"""Slow, obviously correct NumPy references of the native kernels and the classical methods.

Tests compare the C++ (and CUDA) results against these. They favour the textbook formula
over speed: float64 everywhere, explicit loops where they make the definition plain.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import sqrtm

# ---- kernels ------------------------------------------------------------------------------------


def histogram(x: np.ndarray, bins: int, lo, hi) -> np.ndarray:
    """Counts (channels, bins) of x (n, channels) in equal bins over [lo, hi); values outside
    fall in the end bins."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((x.shape[1], bins), dtype=np.int64)
    for c in range(x.shape[1]):
        idx = np.floor((x[:, c] - lo[c]) * (bins / (hi[c] - lo[c])))
        idx = np.clip(idx, 0, bins - 1).astype(np.int64)
        out[c] = np.bincount(idx, minlength=bins)
    return out


def apply_bin_map(x: np.ndarray, left: np.ndarray, right: np.ndarray, lo, hi) -> np.ndarray:
    """Per channel c: inside bin k of [lo[c], hi[c]) go linearly from left[c, k] to right[c, k]."""
    out = np.empty(x.shape, dtype=np.float64)
    bins = left.shape[1]
    for c in range(x.shape[1]):
        t = (x[:, c].astype(np.float64) - lo[c]) * (bins / (hi[c] - lo[c]))
        k = np.clip(np.floor(t), 0, bins - 1).astype(int)
        f = np.clip(t - k, 0, 1)
        out[:, c] = left[c, k] + f * (right[c, k] - left[c, k])
    return out


def _quantile(ref_cdf, edges, q, strict):
    """Smallest y with F(y) >= q (strict=False) or F(y) > q (strict=True), F piecewise linear
    through (edges, ref_cdf); by a scan over the bins."""
    if strict and q >= 1.0:
        strict = False
    width = edges[1] - edges[0]
    for j in range(1, len(edges)):
        reached = ref_cdf[j] > q if strict else ref_cdf[j] >= q
        if reached and ref_cdf[j] > 0:
            step = ref_cdf[j] - ref_cdf[j - 1]
            frac = (q - ref_cdf[j - 1]) / step if step > 0 else 0.0
            return edges[j - 1] + min(max(frac, 0.0), 1.0) * width
    return edges[-1]


def _pooled_cdf(ref_counts, ref_weights):
    ref_cdf = np.zeros(len(ref_counts[0]) + 1)
    for w, counts in zip(ref_weights, ref_counts):
        if np.sum(counts) > 0:
            ref_cdf[1:] += w * np.cumsum(counts) / np.sum(counts)
    return ref_cdf / ref_cdf[-1]


def cdf_transfer_map(src_counts, ref_counts, ref_weights, lo, hi):
    """Loop version of :func:`transfer.classical.cdf_transfer_map`: per source bin, the
    reference quantiles of the source CDF at its two edges (limits from inside the bin)."""
    bins = len(src_counts)
    edges = np.linspace(lo, hi, bins + 1)
    ref_cdf = _pooled_cdf(ref_counts, ref_weights)
    src_cdf = np.concatenate([[0.0], np.cumsum(src_counts)]) / np.sum(src_counts)
    left = np.array([_quantile(ref_cdf, edges, src_cdf[k], strict=True) for k in range(bins)])
    right = np.array([_quantile(ref_cdf, edges, src_cdf[k + 1], strict=False) for k in range(bins)])
    return left, right


def mid_quantile_map(src_counts, ref_counts, ref_weights, lo, hi):
    """Loop version of :func:`transfer.classical.mid_quantile_map`."""
    bins = len(src_counts)
    edges = np.linspace(lo, hi, bins + 1)
    ref_cdf = _pooled_cdf(ref_counts, ref_weights)
    src_cdf = np.concatenate([[0.0], np.cumsum(src_counts)]) / np.sum(src_counts)
    return np.array([_quantile(ref_cdf, edges, 0.5 * (src_cdf[k] + src_cdf[k + 1]), strict=False)
                     for k in range(bins)])


def lut3d_trilinear(lut: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """A 3-D LUT (n, n, n, 3), lut[r, g, b], at colors rgb (m, 3): the 8 corners of each
    color's cell weighted by the products of its fractions; colors clamped to [0, 1]."""
    lut = np.asarray(lut, dtype=np.float64)
    n = lut.shape[0]
    out = np.zeros((len(rgb), 3))
    for i, color in enumerate(np.asarray(rgb, dtype=np.float64)):
        pos = np.clip(color, 0, 1) * (n - 1)
        i0 = np.minimum(np.floor(pos).astype(int), n - 2)
        f = pos - i0
        for corner in np.ndindex(2, 2, 2):
            weight = np.prod([f[k] if corner[k] else 1 - f[k] for k in range(3)])
            out[i] += weight * lut[i0[0] + corner[0], i0[1] + corner[1], i0[2] + corner[2]]
    return out


def resize_bilinear(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Bilinear resize with pixel centers aligned, by explicit sample positions."""
    h, w = img.shape[:2]
    sy = np.clip((np.arange(out_h) + 0.5) * h / out_h - 0.5, 0, h - 1)
    sx = np.clip((np.arange(out_w) + 0.5) * w / out_w - 0.5, 0, w - 1)
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (sy - y0)[:, None, None], (sx - x0)[None, :, None]
    img = img.astype(np.float64)
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def apply_affine(models: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Local affine color models (hm, wm, 6) applied to float sRGB src (h, w, 3): the models
    resized to the image, a x unit Lab + b clipped to [0, 1], back to sRGB (scikit-image's
    conversions)."""
    import warnings

    from skimage.color import lab2rgb, rgb2lab

    h, w = src.shape[:2]
    m = resize_bilinear(models, h, w)
    scale, shift = np.array([100.0, 255.0, 255.0]), np.array([0.0, -128.0, -128.0])
    unit = (rgb2lab(src.astype(np.float64)) - shift) / scale
    with warnings.catch_warnings():  # negative Z clipped to 0, as the kernel does
        warnings.simplefilter("ignore", UserWarning)
        return lab2rgb(np.clip(m[..., :3] * unit + m[..., 3:], 0, 1) * scale + shift)


def regrain_solve_level(out, original, transferred, iterations, level, smoothness):
    """Pitie et al.'s grain-reduction iterations at one level (their MATLAB code, in NumPy)."""
    out = out.astype(np.float64)
    i0 = original.astype(np.float64)
    col = transferred.astype(np.float64)

    def shift(a, dy, dx):  # a[y + dy, x + dx] with the border pixel repeated
        h, w = a.shape[:2]
        ys = np.clip(np.arange(h) + dy, 0, h - 1)
        xs = np.clip(np.arange(w) + dx, 0, w - 1)
        return a[ys][:, xs]

    gx = shift(i0, 0, 1) - shift(i0, 0, -1)
    gy = shift(i0, 1, 0) - shift(i0, -1, 0)
    delta = np.sqrt((gx**2 + gy**2).sum(axis=2, keepdims=True))
    psi = np.minimum(256 * delta / 5, 1)
    phi = 30 * 2.0**-level / (1 + 10 * delta / smoothness)
    neighbours = [(0, 1), (1, 0), (0, -1), (-1, 0)]
    wn = [(shift(phi, dy, dx) + phi) / 2 for dy, dx in neighbours]
    for _ in range(iterations):
        num = psi * col
        for (dy, dx), w in zip(neighbours, wn):
            num = num + w * (shift(out, dy, dx) - shift(i0, dy, dx) + i0)
        den = psi + sum(wn)
        out = num / (den + 1e-6) * 0.8 + 0.2 * out
    return out


# ---- classical methods, on float64 RGB in [0, 1] ------------------------------------------------


def _matched_moments(x: np.ndarray, ref_xs, weights) -> np.ndarray:
    """x (..., 3) with each channel's mean and standard deviation made the pooled ones of
    ``ref_xs`` (the mixture of the references' distributions, weighted)."""
    weights = np.full(len(ref_xs), 1 / len(ref_xs)) if weights is None else np.asarray(weights) / np.sum(weights)
    ref_xs = [r.reshape(-1, 3) for r in ref_xs]
    mu_r = sum(w * r.mean(0) for w, r in zip(weights, ref_xs))
    var_r = sum(w * (r.var(0) + r.mean(0) ** 2) for w, r in zip(weights, ref_xs)) - mu_r**2
    mu_s, sd_s = x.reshape(-1, 3).mean(0), x.reshape(-1, 3).std(0)
    return (x - mu_s) / sd_s * np.sqrt(var_r) + mu_r


def reinhard(src: np.ndarray, refs, weights=None) -> np.ndarray:
    from skimage.color import lab2rgb, rgb2lab

    return lab2rgb(_matched_moments(rgb2lab(src), [rgb2lab(r) for r in refs], weights))


def lalphabeta(rgb: np.ndarray) -> np.ndarray:
    """Reinhard et al. 2001, step by step: sRGB decoded to linear, their RGB -> LMS matrix,
    log10 (floored at 1e-4), then l = (L + M + S) / sqrt 3, alpha = (L + M - 2 S) / sqrt 6,
    beta = (L - M) / sqrt 2."""
    x = np.asarray(rgb, np.float64)
    linear = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    r, g, b = linear[..., 0], linear[..., 1], linear[..., 2]
    lms = [0.3811 * r + 0.5783 * g + 0.0402 * b,
           0.1967 * r + 0.7244 * g + 0.0782 * b,
           0.0241 * r + 0.1288 * g + 0.8444 * b]
    L, M, S = (np.log10(np.maximum(c, 1e-4)) for c in lms)
    return np.stack([(L + M + S) / np.sqrt(3), (L + M - 2 * S) / np.sqrt(6), (L - M) / np.sqrt(2)], axis=-1)


def reinhard_lalphabeta(src: np.ndarray, refs, weights=None) -> np.ndarray:
    """Reinhard in l-alpha-beta, back to sRGB by inverting each step numerically."""
    out = _matched_moments(lalphabeta(src), [lalphabeta(r) for r in refs], weights)
    # back: l, alpha, beta -> log LMS (solve the 3 x 3 system), 10^, LMS -> linear RGB (solve),
    # then the sRGB encoding
    rot = np.array([[1, 1, 1], [1, 1, -2], [1, -1, 0]]) / np.sqrt([3, 6, 2])[:, None]
    log_lms = np.linalg.solve(rot, out.reshape(-1, 3).T).T
    lms_matrix = np.array([[0.3811, 0.5783, 0.0402], [0.1967, 0.7244, 0.0782], [0.0241, 0.1288, 0.8444]])
    linear = np.maximum(np.linalg.solve(lms_matrix, (10.0**log_lms).T).T, 0).reshape(out.shape)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def mkl(src: np.ndarray, refs, weights=None) -> np.ndarray:
    weights = np.full(len(refs), 1 / len(refs)) if weights is None else np.asarray(weights) / np.sum(weights)
    xs = src.reshape(-1, 3)
    mu_s, cov_s = xs.mean(0), np.cov(xs.T, bias=True)
    rs = [r.reshape(-1, 3) for r in refs]
    mu_r = sum(w * r.mean(0) for w, r in zip(weights, rs))
    cov_r = sum(w * (np.cov(r.T, bias=True) + np.outer(r.mean(0), r.mean(0))) for w, r in zip(weights, rs))
    cov_r -= np.outer(mu_r, mu_r)
    half = np.real(sqrtm(cov_s))
    half_inv = np.linalg.inv(half)
    t = half_inv @ np.real(sqrtm(half @ cov_r @ half)) @ half_inv
    return np.clip((xs - mu_s) @ t + mu_r, 0, 1).reshape(src.shape)


def histogram_levels(src: np.ndarray, refs, levels: int, weights=None) -> np.ndarray:
    """Histogram matching of an integer-valued source (values k / (levels - 1)): each level
    goes to the pooled reference quantile of its mid-rank."""
    weights = np.full(len(refs), 1 / len(refs)) if weights is None else np.asarray(weights) / np.sum(weights)
    half = 0.5 / (levels - 1)
    out = np.empty_like(src, dtype=np.float64)
    for c in range(3):
        s = np.rint(src[..., c] * (levels - 1)).astype(np.int64)
        counts = np.bincount(s.ravel(), minlength=levels)
        ref_counts = [histogram(r[..., c].reshape(-1, 1), levels, [-half], [1 + half])[0] for r in refs]
        lut = mid_quantile_map(counts, ref_counts, weights, -half, 1 + half)
        out[..., c] = lut[s]
    return np.clip(out, 0, 1)


def idt(src: np.ndarray, refs, rotations, bins: int, weights=None) -> np.ndarray:
    """Iterative distribution transfer, one NumPy 1-D transfer per axis per rotation."""
    weights = np.full(len(refs), 1 / len(refs)) if weights is None else np.asarray(weights) / np.sum(weights)
    x = src.reshape(-1, 3).astype(np.float64)
    rs = [r.reshape(-1, 3).astype(np.float64) for r in refs]
    for rot in np.asarray(rotations, dtype=np.float64):
        p = x @ rot.T
        pr = [r @ rot.T for r in rs]
        lo = np.minimum(p.min(0), np.min([q.min(0) for q in pr], axis=0)) - 1e-6
        hi = np.maximum(p.max(0), np.max([q.max(0) for q in pr], axis=0)) + 1e-6
        src_counts = histogram(p, bins, lo, hi)
        ref_counts = [histogram(q, bins, lo, hi) for q in pr]
        d = np.empty_like(p)
        for a in range(3):
            left, right = cdf_transfer_map(src_counts[a], [rc[a] for rc in ref_counts], weights,
                                           lo[a], hi[a])
            d[:, a] = apply_bin_map(p[:, [a]], left[None], right[None], [lo[a]], [hi[a]])[:, 0] - p[:, a]
        x = x + d @ rot
    return np.clip(x, 0, 1).reshape(src.shape)


# ---- nearest-neighbour fields -------------------------------------------------------------------


def patch_distance(fa: np.ndarray, fb: np.ndarray, p, q, half: int) -> float:
    """Minus the mean dot product of channel-last features over the offsets inside both maps."""
    total, count = 0.0, 0
    for dy in range(-half, half + 1):
        for dx in range(-half, half + 1):
            ya, xa, yb, xb = p[0] + dy, p[1] + dx, q[0] + dy, q[1] + dx
            if 0 <= ya < fa.shape[0] and 0 <= xa < fa.shape[1] and 0 <= yb < fb.shape[0] and 0 <= xb < fb.shape[1]:
                total += float(np.dot(fa[ya, xa].astype(np.float64), fb[yb, xb].astype(np.float64)))
                count += 1
    return -total / count


def to_bfloat16(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to bfloat16 (8 significant bits, round half to even), returned
    as float32: what the CPU kernel's bfloat16 path multiplies."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return rounded.astype(np.uint32).view(np.float32)


def upsample(field: np.ndarray, shape_a, shape_b, coarse_shape_b=None) -> np.ndarray:
    """Loop version of :func:`transfer.nnf.upsample`."""
    hc, wc = field.shape[:2]
    (ha, wa), (hb, wb) = shape_a, shape_b
    say, sax = ha / hc, wa / wc
    sby, sbx = (say, sax) if coarse_shape_b is None else (hb / coarse_shape_b[0], wb / coarse_shape_b[1])
    out = np.empty((ha, wa, 2), np.int32)
    for y in range(ha):
        for x in range(wa):
            py, px = min(int(y / say), hc - 1), min(int(x / sax), wc - 1)
            qy, qx = field[py, px]
            out[y, x, 0] = min(max(int(np.floor(qy * sby + (y - py * say))), 0), hb - 1)
            out[y, x, 1] = min(max(int(np.floor(qx * sbx + (x - px * sax))), 0), wb - 1)
    return out


def bds_vote(values: np.ndarray, field_ab: np.ndarray, field_ba: np.ndarray, beta: float, half: int):
    """Loop version of BDS voting (algorithm.md, section 3), values (H_b, W_b, K)."""
    hb, wb, k = values.shape
    ha, wa = field_ab.shape[:2]
    coherence = np.zeros((ha, wa, k))
    completeness = np.zeros((ha, wa, k))
    n_coh = np.zeros((ha, wa))
    n_comp = np.zeros((ha, wa))
    offsets = [(dy, dx) for dy in range(-half, half + 1) for dx in range(-half, half + 1)]
    for y in range(ha):
        for x in range(wa):
            for dy, dx in offsets:  # neighbour p' = p + d votes R(q' - d)
                py, px = y + dy, x + dx
                if 0 <= py < ha and 0 <= px < wa:
                    ry, rx = field_ab[py, px, 0] - dy, field_ab[py, px, 1] - dx
                    if 0 <= ry < hb and 0 <= rx < wb:
                        coherence[y, x] += values[ry, rx]
                        n_coh[y, x] += 1
    for ry in range(hb):
        for rx in range(wb):
            sy, sx = field_ba[ry, rx]
            for dy, dx in offsets:
                ty, tx, vy, vx = sy + dy, sx + dx, ry + dy, rx + dx
                if 0 <= ty < ha and 0 <= tx < wa and 0 <= vy < hb and 0 <= vx < wb:
                    completeness[ty, tx] += values[vy, vx]
                    n_comp[ty, tx] += 1
    wc, wbeta = 1.0 / (ha * wa), beta / (hb * wb)
    den = (wc * n_coh + wbeta * n_comp)[..., None]
    return (wc * coherence + wbeta * completeness) / den


def solve_systems(lap, block: np.ndarray, rhs: np.ndarray, x0: np.ndarray, rtol: float,
                  maxiter: int) -> np.ndarray:
    """transfer.neural.affine.solve_systems, one system at a time: each system's whole matrix
    assembled (``lap`` on every unknown, ``block`` coupling a node's unknowns) and given to
    scipy.sparse.linalg.cg with the Jacobi preconditioner."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import cg

    n, m, k = rhs.shape
    lap = sp.csr_matrix(lap)
    x = np.empty((n, m, k))
    for c in range(k):
        a = sp.bmat([[(lap if u == v else sp.csr_matrix((n, n))) + sp.diags(block[:, u, v, c])
                      for v in range(m)] for u in range(m)], format="csr")
        b = rhs[..., c].T.ravel()  # unknown-major: all nodes' unknown 0, then unknown 1, ...
        precond = sp.diags(1.0 / np.maximum(a.diagonal(), 1e-12))
        xc, _ = cg(a, b, x0=x0[..., c].T.ravel().astype(np.float64), rtol=rtol, maxiter=maxiter,
                   M=precond)
        x[..., c] = xc.reshape(m, n).T
    return x


# ---- grid multigrid (csrc/solve/multigrid_kernel.h) --------------------------------------------


def grid_neighbours(h: int, w: int, y: int, x: int, wx, wy):
    """The 4-neighbours of (y, x) with the weights of the edges to them."""
    out = []
    if x + 1 < w:
        out.append(((y, x + 1), wx[y, x]))
    if x > 0:
        out.append(((y, x - 1), wx[y, x - 1]))
    if y + 1 < h:
        out.append(((y + 1, x), wy[y, x]))
    if y > 0:
        out.append(((y - 1, x), wy[y - 1, x]))
    return out


def grid_apply(wx, wy, extra, block, x):
    """(A x) of the grid operator, node by node: (sum of edge weights + extra) x_i minus the
    weighted neighbours, plus the node's block times x_i. x (h w, m, k)."""
    h, w = wx.shape
    out = np.zeros_like(x)
    for y in range(h):
        for xx in range(w):
            i = y * w + xx
            nbs = grid_neighbours(h, w, y, xx, wx, wy)
            deg = sum(wt for _, wt in nbs) + extra[y, xx]
            out[i] = deg * x[i] - sum(wt * x[a * w + b] for (a, b), wt in nbs)
            out[i] += np.einsum("uvc,vc->uc", block[i], x[i])
    return out


def grid_relax(wx, wy, extra, block, f, x, color: int):
    """One Gauss-Seidel half-sweep over the nodes with (row + col) % 2 == color: each solves
    its own m x m system with the neighbours held. Returns the new x."""
    h, w = wx.shape
    x = x.copy()
    for y in range(h):
        for xx in range(w):
            if (y + xx) % 2 != color:
                continue
            i = y * w + xx
            nbs = grid_neighbours(h, w, y, xx, wx, wy)
            deg = sum(wt for _, wt in nbs) + extra[y, xx]
            rhs = f[i] + sum(wt * x[a * w + b] for (a, b), wt in nbs)
            for c in range(x.shape[2]):
                x[i, :, c] = np.linalg.solve(deg * np.eye(x.shape[1]) + block[i, :, :, c], rhs[:, c])
    return x


def prolongation(wx, wy) -> np.ndarray:
    """The dense prolongation P (h w, hc wc) from the grid of every other node: a fine node
    on a coarse node copies it; one between two coarse nodes takes them in proportion to its
    edges toward them; one between four takes its four neighbours' interpolated values in
    proportion to its edges toward them (a missing neighbour or coarse node counts 0)."""
    h, w = wx.shape
    hc, wc = (h + 1) // 2, (w + 1) // 2
    P = np.zeros((h * w, hc * wc))

    def split(near, far, far_exists):
        if not far_exists:
            return 1.0, 0.0
        return (near / (near + far), far / (near + far)) if near + far > 0 else (0.5, 0.5)

    def row_of(y, x):  # the interpolation of (y, x) as {coarse index: weight}
        if y % 2 == 0 and x % 2 == 0:
            return {(y // 2) * wc + x // 2: 1.0}
        if y % 2 == 0:
            a, b = split(wx[y, x - 1], wx[y, x] if x + 1 < w else 0.0, x + 1 < w)
            return {(y // 2) * wc + x // 2: a, (y // 2) * wc + x // 2 + 1: b}
        if x % 2 == 0:
            a, b = split(wy[y - 1, x], wy[y, x] if y + 1 < h else 0.0, y + 1 < h)
            return {(y // 2) * wc + x // 2: a, (y // 2 + 1) * wc + x // 2: b}
        nbs = [(p, e) for p, e in grid_neighbours(h, w, y, x, wx, wy)]
        total = sum(e for _, e in nbs)
        out = {}
        for (a, b), e in nbs:
            for idx, v in row_of(a, b).items():
                out[idx] = out.get(idx, 0.0) + (e / total if total > 0 else 0.0) * v
        if total <= 0:
            corners = [(y + dy) // 2 * wc + (x + dx) // 2 for dy in (-1, 1) for dx in (-1, 1)
                       if y + dy < h and x + dx < w]
            out = {c: 1.0 / len(corners) for c in corners}
        return out

    for y in range(h):
        for x in range(w):
            for idx, v in row_of(y, x).items():
                if v:
                    P[y * w + x, idx] += v
    return P


def grid_coarsen(wx, wy, extra, block):
    """The coarse grid: edges of two fine edges in series, plus half of the same on the
    neighbouring fine rows (columns); extra and blocks summed with the weights of P's column.
    Returns (wx, wy, extra, block) of the coarse grid."""
    h, w = wx.shape
    hc, wc = (h + 1) // 2, (w + 1) // 2
    P = prolongation(wx, wy)

    def series(a, b):
        return a * b / (a + b) if a + b > 0 else 0.0

    cwx, cwy = np.zeros((hc, wc)), np.zeros((hc, wc))
    for r in range(hc):
        for c in range(wc):
            y, x = 2 * r, 2 * c
            if c + 1 < wc:
                cwx[r, c] = sum(f * series(wx[y + dy, x], wx[y + dy, x + 1])
                                for dy, f in ((-1, 0.5), (0, 1.0), (1, 0.5)) if 0 <= y + dy < h)
            if r + 1 < hc:
                cwy[r, c] = sum(f * series(wy[y, x + dx], wy[y + 1, x + dx])
                                for dx, f in ((-1, 0.5), (0, 1.0), (1, 0.5)) if 0 <= x + dx < w)
    cextra = (P.T @ extra.ravel()).reshape(hc, wc)
    cblock = np.einsum("iI,iuvk->Iuvk", P, block)
    return cwx, cwy, cextra, cblock


# ---- feathering of region maps ------------------------------------------------------------------


def guided_filter(guide: np.ndarray, p: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter (color guide), window by window: in each (2 radius + 1)^2
    window (edge pixels repeated past the border), the ridge regression of p on the guide's
    colors; each pixel then averages the affine models of the windows that cover it."""
    h, w = p.shape
    n = 2 * radius + 1
    gp = np.pad(guide.astype(np.float64), ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    pp = np.pad(p.astype(np.float64), radius, mode="edge")
    a = np.empty((h, w, 3))
    b = np.empty((h, w))
    for y in range(h):
        for x in range(w):
            win_g = gp[y:y + n, x:x + n].reshape(-1, 3)
            win_p = pp[y:y + n, x:x + n].reshape(-1)
            mu, mean_p = win_g.mean(axis=0), win_p.mean()
            cov = (win_g - mu).T @ (win_g - mu) / len(win_p)  # biased, as box means give
            a[y, x] = np.linalg.solve(cov + eps * np.eye(3), (win_g - mu).T @ (win_p - mean_p) / len(win_p))
            b[y, x] = mean_p - a[y, x] @ mu
    ap = np.pad(a, ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    bp = np.pad(b, radius, mode="edge")
    out = np.empty((h, w))
    for y in range(h):
        for x in range(w):
            out[y, x] = ap[y:y + n, x:x + n].mean(axis=(0, 1)) @ guide[y, x] + bp[y:y + n, x:x + n].mean()
    return out
