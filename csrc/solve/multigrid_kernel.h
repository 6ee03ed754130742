// Per-node bodies of the grid multigrid (host and device): the operator
//   (A x)_i = diag_i x_i - sum_{j in N4(i)} w_ij x_j + B_i x_i
// on an h x w grid of nodes with m unknowns per node and k systems that share the stencil
// (one m x m block B_i per node and system), its red-black Gauss-Seidel relaxation, and the
// transfer operators between a grid and the coarse grid of every other node: interpolation
// that follows the edges (Alcouffe et al. 1981), restriction its transpose, and a coarse grid
// of the same form (see coarsen_px).
// Arrays are node-major: x (n, m, k), B (n, m, m, k); wx[i] weights the edge from i to its
// right neighbour (0 in the last column), wy[i] the edge to the node below (0 in the last row);
// diag_i is the sum of the weights of i's stencil edges plus ``extra_i`` (the rest of A's
// diagonal: the degree of the non-local edges, which a grid may hold as a CSR list).
#pragma once

#include <cstdint>

#include "common/hd.h"

namespace transfer::solve {

struct Grid {
  int64_t h, w;
  const double* wx;
  const double* wy;
  const double* diag;
  const double* block;  // (h w, m, m, k)
  // optional edges beyond the stencil (the non-local term), both directions, in CSR form:
  // node i's are [far_ptr[i], far_ptr[i + 1]) with far_idx and far_w; null: none. Their
  // weights count in diag through extra.
  const int64_t* far_ptr = nullptr;
  const int32_t* far_idx = nullptr;
  const double* far_w = nullptr;
};

// acc[u k + c] += sum over i's non-local edges of w_ij x_j[u, c]; returns their |w| summed
template <int W>
TRANSFER_HD double far_sum(const Grid& g, const double* x, int64_t i, double* acc) {
  double total = 0.0;
  if (g.far_ptr == nullptr) return total;
  for (int64_t l = g.far_ptr[i]; l < g.far_ptr[i + 1]; ++l) {
    const double* xj = x + static_cast<int64_t>(g.far_idx[l]) * W;
    for (int t = 0; t < W; ++t) acc[t] += g.far_w[l] * xj[t];
    total += g.far_w[l] < 0.0 ? -g.far_w[l] : g.far_w[l];
  }
  return total;
}

// acc[u k + c] = sum_j w_ij x_j[u, c]
template <int M, int K>
TRANSFER_HD void neighbour_sum(const Grid& g, const double* x, int64_t i, double* acc) {
  constexpr int W = M * K;
  for (int t = 0; t < W; ++t) acc[t] = 0.0;
  const int64_t row = i / g.w, col = i - row * g.w;
  const int64_t nb[4] = {i + 1, i - 1, i + g.w, i - g.w};
  const double wt[4] = {col + 1 < g.w ? g.wx[i] : 0.0, col > 0 ? g.wx[i - 1] : 0.0,
                        row + 1 < g.h ? g.wy[i] : 0.0, row > 0 ? g.wy[i - g.w] : 0.0};
  for (int e = 0; e < 4; ++e) {
    if (wt[e] == 0.0) continue;
    const double* xj = x + nb[e] * W;
    for (int t = 0; t < W; ++t) acc[t] += wt[e] * xj[t];
  }
}

// out = (A x) at node i
template <int M, int K>
TRANSFER_HD void apply_px(const Grid& g, const double* x, int64_t i, double* out) {
  constexpr int W = M * K;
  double nbs[W];
  neighbour_sum<M, K>(g, x, i, nbs);
  (void)far_sum<W>(g, x, i, nbs);
  const double* xi = x + i * W;
  const double* bi = g.block + i * M * W;
  for (int u = 0; u < M; ++u)
    for (int c = 0; c < K; ++c) {
      double acc = g.diag[i] * xi[u * K + c] - nbs[u * K + c];
      for (int v = 0; v < M; ++v) acc += bi[(u * M + v) * K + c] * xi[v * K + c];
      out[u * K + c] = acc;
    }
}

// r = (f - A x) at node i
template <int M, int K>
TRANSFER_HD void residual_px(const Grid& g, const double* f, const double* x, int64_t i, double* r) {
  constexpr int W = M * K;
  apply_px<M, K>(g, x, i, r + i * W);
  for (int t = 0; t < W; ++t) r[i * W + t] = f[i * W + t] - r[i * W + t];
}

// Gauss-Seidel at node i: x_i solves its own rows of A x = f, the neighbours held
// ((diag_i I + B_i) x_i = f_i + sum_j w_ij x_j; m = 1 or 2). The non-local neighbours are
// read from ``held``, x as it was before this half-sweep (they may have i's color): a Jacobi
// step for them, whose weights are added to the diagonal once more (the l1 smoother of
// Baker et al. 2011) so that the relaxation stays convergent however strong they are.
template <int M, int K>
TRANSFER_HD void relax_px(const Grid& g, const double* f, const double* held, double* x, int64_t i) {
  constexpr int W = M * K;
  static_assert(M == 1 || M == 2, "one or two unknowns per node");
  double rhs[W];
  neighbour_sum<M, K>(g, x, i, rhs);
  const double far = far_sum<W>(g, held, i, rhs);
  const double* fi = f + i * W;
  const double* bi = g.block + i * M * W;
  double* xi = x + i * W;
  for (int t = 0; t < W; ++t) rhs[t] += far * xi[t];  // x_i + (f - A x)_i / (diagonal + far)
  const double d = g.diag[i] + far;
  for (int c = 0; c < K; ++c) {
    if (M == 1) {
      const double a = d + bi[c];
      xi[c] = a > 0.0 ? (fi[c] + rhs[c]) / a : 0.0;
    } else {
      const double a00 = d + bi[c], a01 = bi[K + c], a10 = bi[2 * K + c], a11 = d + bi[3 * K + c];
      const double r0 = fi[c] + rhs[c], r1 = fi[K + c] + rhs[K + c];
      const double det = a00 * a11 - a01 * a10;
      if (det > 0.0) {
        xi[c] = (a11 * r0 - a01 * r1) / det;
        xi[K + c] = (a00 * r1 - a10 * r0) / det;
      }
    }
  }
}

// The coarse grid keeps every other node of each axis: (h + 1) / 2 x (w + 1) / 2 nodes.
TRANSFER_HD int64_t coarse_size(int64_t n) { return (n + 1) / 2; }

// The weights of the two coarse nodes beside a fine node, in proportion to the fine edges
// toward them (operator-dependent interpolation: a correction does not leak across an edge
// of the image); "far" is false where the second one is past the border.
TRANSFER_HD void split_px(double near_w, double far_w, bool far, double* wn, double* wf) {
  if (!far) {
    *wn = 1.0, *wf = 0.0;
    return;
  }
  const double total = near_w + far_w;
  *wn = total > 0.0 ? near_w / total : 0.5;
  *wf = 1.0 - *wn;
}

// The row of the prolongation P at fine node (y, x): up to four coarse nodes (idx) and their
// weights (wt), summing to 1; returns how many. Even-even nodes copy their coarse node; nodes
// between two coarse nodes take them in proportion to their edges toward them; the others
// take their four neighbours' values in proportion to their edges.
TRANSFER_HD int prolong_row(const Grid& g, int64_t wc, int64_t y, int64_t x, int64_t* idx, double* wt) {
  const int64_t i = y * g.w + x;
  const bool ey = (y & 1) == 0, ex = (x & 1) == 0;
  if (ey && ex) {
    idx[0] = (y / 2) * wc + x / 2, wt[0] = 1.0;
    return 1;
  }
  if (ey) {  // between (y/2, x/2) and (y/2, x/2 + 1)
    idx[0] = (y / 2) * wc + x / 2, idx[1] = idx[0] + 1;
    split_px(g.wx[i - 1], x + 1 < g.w ? g.wx[i] : 0.0, x + 1 < g.w, &wt[0], &wt[1]);
    return 2;
  }
  if (ex) {  // between (y/2, x/2) and (y/2 + 1, x/2)
    idx[0] = (y / 2) * wc + x / 2, idx[1] = idx[0] + wc;
    split_px(g.wy[i - g.w], y + 1 < g.h ? g.wy[i] : 0.0, y + 1 < g.h, &wt[0], &wt[1]);
    return 2;
  }
  // the four corners: (y-1, x-1), (y-1, x+1), (y+1, x-1), (y+1, x+1), those inside
  const bool right = x + 1 < g.w, down = y + 1 < g.h;
  const int64_t c00 = (y / 2) * wc + x / 2;
  idx[0] = c00, idx[1] = c00 + 1, idx[2] = c00 + wc, idx[3] = c00 + wc + 1;
  for (int t = 0; t < 4; ++t) wt[t] = 0.0;
  // the neighbours: left and right are between the corners above and below them, up and down
  // between the corners left and right of them
  const double e_left = g.wx[i - 1], e_right = right ? g.wx[i] : 0.0;
  const double e_up = g.wy[i - g.w], e_down = down ? g.wy[i] : 0.0;
  const double total = e_left + e_right + e_up + e_down;
  const double share[4] = {total > 0.0 ? e_left / total : 0.0, total > 0.0 ? e_right / total : 0.0,
                           total > 0.0 ? e_up / total : 0.0, total > 0.0 ? e_down / total : 0.0};
  double a, b;
  // left neighbour (y, x-1): between corners (y-1, x-1) [0] and (y+1, x-1) [2]
  split_px(g.wy[i - 1 - g.w], down ? g.wy[i - 1] : 0.0, down, &a, &b);
  wt[0] += share[0] * a, wt[2] += share[0] * b;
  if (right) {  // (y, x+1): corners [1] and [3]
    split_px(g.wy[i + 1 - g.w], down ? g.wy[i + 1] : 0.0, down, &a, &b);
    wt[1] += share[1] * a, wt[3] += share[1] * b;
  }
  // up neighbour (y-1, x): corners [0] and [1]
  split_px(g.wx[i - g.w - 1], right ? g.wx[i - g.w] : 0.0, right, &a, &b);
  wt[0] += share[2] * a, wt[1] += share[2] * b;
  if (down) {  // (y+1, x): corners [2] and [3]
    split_px(g.wx[i + g.w - 1], right ? g.wx[i + g.w] : 0.0, right, &a, &b);
    wt[2] += share[3] * a, wt[3] += share[3] * b;
  }
  if (total <= 0.0) {  // no edges at all: the mean of the corners inside
    const int inside = 1 + (right ? 1 : 0) + (down ? 1 : 0) + (right && down ? 1 : 0);
    wt[0] = 1.0 / inside, wt[1] = right ? wt[0] : 0.0, wt[2] = down ? wt[0] : 0.0;
    wt[3] = right && down ? wt[0] : 0.0;
  }
  return 4;
}

// Prolongation at fine node i: x_i += (P e)_i
template <int W>
TRANSFER_HD void prolong_px(const Grid& g, const double* e, int64_t wc, double* x, int64_t i) {
  int64_t idx[4];
  double wt[4];
  const int n = prolong_row(g, wc, i / g.w, i % g.w, idx, wt);
  double* xi = x + i * W;
  for (int j = 0; j < n; ++j) {
    if (wt[j] == 0.0) continue;
    const double* ej = e + idx[j] * W;
    for (int t = 0; t < W; ++t) xi[t] += wt[j] * ej[t];
  }
}

// Calls f(fine node, its weight toward I) for the fine nodes that coarse node I reaches
// (the column I of P: the 3 x 3 fine nodes around it)
template <class F>
TRANSFER_HD void prolong_column(const Grid& g, int64_t wc, int64_t I, F&& f) {
  const int64_t R = I / wc, C = I - R * wc;
  for (int64_t y = 2 * R - 1; y <= 2 * R + 1; ++y)
    for (int64_t x = 2 * C - 1; x <= 2 * C + 1; ++x) {
      if (y < 0 || x < 0 || y >= g.h || x >= g.w) continue;
      int64_t idx[4];
      double wt[4];
      const int n = prolong_row(g, wc, y, x, idx, wt);
      for (int j = 0; j < n; ++j)
        if (idx[j] == I && wt[j] != 0.0) f(y * g.w + x, wt[j]);
    }
}

// Restriction at coarse node I: (P^T r)_I
template <int W>
TRANSFER_HD void restrict_px(const Grid& g, const double* r, int64_t wc, int64_t I, double* out) {
  double acc[W];
  for (int t = 0; t < W; ++t) acc[t] = 0.0;
  prolong_column(g, wc, I, [&](int64_t i, double wt) {
    for (int t = 0; t < W; ++t) acc[t] += wt * r[i * W + t];
  });
  for (int t = 0; t < W; ++t) out[I * W + t] = acc[t];
}

// Two edges in series conduct a b / (a + b).
TRANSFER_HD double series(double a, double b) { return a + b > 0.0 ? a * b / (a + b) : 0.0; }

// The coarse grid at coarse node I. Its edge to the next coarse node of its row conducts as
// the two fine edges between them in series, plus half of the same on the fine rows above and
// below (the stencil rediscretised at twice the spacing: the same operator on smooth
// functions, and an edge of the image stays an edge); likewise down. Its extra and blocks are
// those of P^T A P with the blocks lumped: the fine ones summed with the weights of P's
// column I. Writes wx, wy, extra (one each) and block (m m k) of node I.
template <int M, int K>
TRANSFER_HD void coarsen_px(const Grid& g, const double* extra, int64_t hc, int64_t wc, int64_t I,
                            double* cwx, double* cwy, double* cextra, double* cblock) {
  constexpr int B = M * M * K;
  const int64_t R = I / wc, C = I - R * wc, y = 2 * R, x = 2 * C;
  double sx = 0.0, sy = 0.0;
  if (C + 1 < wc)
    for (int64_t dy = -1; dy <= 1; ++dy) {
      if (y + dy < 0 || y + dy >= g.h) continue;
      const int64_t i = (y + dy) * g.w + x;
      sx += (dy == 0 ? 1.0 : 0.5) * series(g.wx[i], g.wx[i + 1]);
    }
  if (R + 1 < hc)
    for (int64_t dx = -1; dx <= 1; ++dx) {
      if (x + dx < 0 || x + dx >= g.w) continue;
      const int64_t i = y * g.w + x + dx;
      sy += (dx == 0 ? 1.0 : 0.5) * series(g.wy[i], g.wy[i + g.w]);
    }
  double se = 0.0, sb[B];
  for (int t = 0; t < B; ++t) sb[t] = 0.0;
  prolong_column(g, wc, I, [&](int64_t i, double wt) {
    se += wt * extra[i];
    for (int t = 0; t < B; ++t) sb[t] += wt * g.block[i * B + t];
  });
  cwx[I] = sx;
  cwy[I] = sy;
  cextra[I] = se;
  for (int t = 0; t < B; ++t) cblock[I * B + t] = sb[t];
}

// diag_i = the weights of i's edges + extra_i
TRANSFER_HD double degree_px(int64_t h, int64_t w, const double* wx, const double* wy,
                             const double* extra, int64_t i) {
  const int64_t row = i / w, col = i - row * w;
  double d = extra[i];
  if (col + 1 < w) d += wx[i];
  if (col > 0) d += wx[i - 1];
  if (row + 1 < h) d += wy[i];
  if (row > 0) d += wy[i - w];
  return d;
}

}  // namespace transfer::solve
