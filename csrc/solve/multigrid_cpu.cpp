#include "solve/multigrid.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "common/parallel.h"
#include "solve/multigrid_kernel.h"

namespace transfer::solve {
namespace {

constexpr int kSweeps = 2;           // red-black sweeps before and after the coarse correction
constexpr int kCoarsestSweeps = 16;  // symmetric sweeps on the coarsest grid
constexpr int64_t kCoarsest = 64;    // nodes: coarsening stops at this size

template <int M, int K>
struct Shape {
  static constexpr int m = M, k = K;
};

// Calls fn(Shape<m, k>{}) for the supported shapes (the loops of the bodies unroll).
template <class Fn>
auto dispatch(int m, int k, Fn&& fn) {
  if (m == 1) {
    switch (k) {
      case 1: return fn(Shape<1, 1>{});
      case 2: return fn(Shape<1, 2>{});
      case 3: return fn(Shape<1, 3>{});
      case 4: return fn(Shape<1, 4>{});
      case 5: return fn(Shape<1, 5>{});
      case 6: return fn(Shape<1, 6>{});
    }
  } else if (m == 2) {
    switch (k) {
      case 1: return fn(Shape<2, 1>{});
      case 2: return fn(Shape<2, 2>{});
      case 3: return fn(Shape<2, 3>{});
    }
  }
  throw std::invalid_argument("multigrid: unsupported shape (m, k)");
}

struct Level {
  int64_t h = 0, w = 0;
  const double* wx = nullptr;  // the caller's arrays on the finest grid, own ones below
  const double* wy = nullptr;
  const double* block = nullptr;
  std::vector<double> own_wx, own_wy, own_block, extra, diag, x, f, r;
  int64_t n() const { return h * w; }
  Grid grid() const { return {h, w, wx, wy, diag.data(), block}; }
};

void fill_diag(Level& lv) {
  lv.diag.resize(lv.n());
  parallel_for(lv.n(), [&](int64_t i) {
    lv.diag[i] = degree_px(lv.h, lv.w, lv.wx, lv.wy, lv.extra.data(), i);
  });
}

template <int M, int K>
void relax_color(const Grid& g, const double* f, double* x, int color) {
  parallel_for(g.h, [&](int64_t row) {
    for (int64_t col = (row + color) & 1; col < g.w; col += 2) relax_px<M, K>(g, f, x, row * g.w + col);
  });
}

template <int M, int K>
class Multigrid {
 public:
  static constexpr int W = M * K;

  Multigrid(int64_t h, int64_t w, const double* wx, const double* wy, const double* block,
            std::vector<double> extra) {
    levels_.emplace_back();
    Level& top = levels_.back();
    top.h = h, top.w = w, top.wx = wx, top.wy = wy, top.block = block;
    top.extra = std::move(extra);
    fill_diag(top);
    while (levels_.back().n() > kCoarsest && (levels_.back().h > 1 || levels_.back().w > 1)) coarsen();
    for (size_t l = 1; l < levels_.size(); ++l) {
      Level& lv = levels_[l];
      lv.x.assign(lv.n() * W, 0.0);
      lv.f.assign(lv.n() * W, 0.0);
    }
    for (Level& lv : levels_) lv.r.assign(lv.n() * W, 0.0);
  }

  // z = one V-cycle on A z = f from z = 0 (the preconditioner: symmetric and fixed)
  void cycle(const double* f, double* z) { cycle(0, f, z); }

  const Level& top() const { return levels_[0]; }

 private:
  void coarsen() {
    const Level& fine = levels_.back();
    Level c;
    c.h = coarse_size(fine.h), c.w = coarse_size(fine.w);
    c.own_wx.resize(c.n()), c.own_wy.resize(c.n()), c.extra.resize(c.n());
    c.own_block.resize(c.n() * M * W);
    const Grid g = fine.grid();
    const double* fe = fine.extra.data();
    parallel_for(c.n(), [&](int64_t I) {
      coarsen_px<M, K>(g, fe, c.h, c.w, I, c.own_wx.data(), c.own_wy.data(), c.extra.data(),
                       c.own_block.data());
    });
    c.wx = c.own_wx.data(), c.wy = c.own_wy.data(), c.block = c.own_block.data();
    fill_diag(c);
    levels_.push_back(std::move(c));
  }

  void cycle(size_t l, const double* f, double* x) {
    Level& lv = levels_[l];
    const Grid g = lv.grid();
    std::fill(x, x + lv.n() * W, 0.0);
    if (l + 1 == levels_.size()) {
      for (int s = 0; s < kCoarsestSweeps; ++s) {
        relax_color<M, K>(g, f, x, 0), relax_color<M, K>(g, f, x, 1);
        relax_color<M, K>(g, f, x, 1), relax_color<M, K>(g, f, x, 0);
      }
      return;
    }
    for (int s = 0; s < kSweeps; ++s) relax_color<M, K>(g, f, x, 0), relax_color<M, K>(g, f, x, 1);
    double* r = lv.r.data();
    parallel_for(lv.n(), [&](int64_t i) {
      apply_px<M, K>(g, x, i, r + i * W);
      for (int t = 0; t < W; ++t) r[i * W + t] = f[i * W + t] - r[i * W + t];
    });
    Level& c = levels_[l + 1];
    parallel_for(c.n(), [&](int64_t I) { restrict_px<W>(g, r, c.w, I, c.f.data()); });
    cycle(l + 1, c.f.data(), c.x.data());
    parallel_for(lv.n(), [&](int64_t i) { prolong_px<W>(g, c.x.data(), c.w, x, i); });
    for (int s = 0; s < kSweeps; ++s) relax_color<M, K>(g, f, x, 1), relax_color<M, K>(g, f, x, 0);
  }

  std::vector<Level> levels_;
};

// s[c] += sum over nodes [i0, i1) of u . v, per system c
template <int M, int K>
void dots(const double* u, const double* v, int64_t i0, int64_t i1, double* s) {
  for (int64_t t = i0 * M * K; t < i1 * M * K; ++t) s[t % K] += u[t] * v[t];
}

template <int M, int K>
int solve(int64_t h, int64_t w, const double* wx, const double* wy, const double* block,
          const int64_t* indptr, const int32_t* indices, const double* values, const double* b,
          double* x, double rtol, int maxiter, bool krylov, double* history) {
  constexpr int W = M * K;
  const int64_t n = h * w;
  std::vector<double> extra(n, 0.0);  // L_nl's diagonal: part of the preconditioner's grid
  if (indptr)
    parallel_for(n, [&](int64_t i) {
      for (int64_t l = indptr[i]; l < indptr[i + 1]; ++l)
        if (indices[l] == i) extra[i] += values[l];
    });
  Multigrid<M, K> mg(h, w, wx, wy, block, std::move(extra));
  const Grid g = mg.top().grid();
  // out = A x: the grid (whose diagonal holds L_nl's) and L_nl's other entries
  auto apply = [&](const double* v, double* out) {
    parallel_for(n, [&](int64_t i) {
      double* o = out + i * W;
      apply_px<M, K>(g, v, i, o);
      if (!indptr) return;
      for (int64_t l = indptr[i]; l < indptr[i + 1]; ++l) {
        if (indices[l] == i) continue;
        const double* vj = v + static_cast<int64_t>(indices[l]) * W;
        for (int t = 0; t < W; ++t) o[t] += values[l] * vj[t];
      }
    });
  };
  std::vector<double> r(n * W), z(n * W), p(n * W, 0.0), q(n * W);
  auto sums = [&](const double* u, const double* v) {
    return chunked_range_sums(n, K, [&](int64_t i0, int64_t i1, double* s) { dots<M, K>(u, v, i0, i1, s); });
  };
  const std::vector<double> bb = sums(b, b);
  std::vector<double> atol(K), alpha(K, 0.0), beta(K, 0.0);
  std::vector<char> active(K);
  for (int c = 0; c < K; ++c) atol[c] = rtol * std::sqrt(bb[c]), active[c] = bb[c] > 0.0;
  parallel_for(n, [&](int64_t i) {  // b = 0: x = 0
    for (int t = 0; t < W; ++t)
      if (!active[t % K]) x[i * W + t] = 0.0;
  });
  auto residual = [&]() {
    apply(x, q.data());
    parallel_for(n * W, [&](int64_t t) { r[t] = b[t] - q[t]; });
  };
  std::vector<double> rr;
  auto record = [&](int step) {  // |r_c|, the history, and which systems go on
    rr = sums(r.data(), r.data());
    bool any = false;
    double worst = 0.0;
    for (int c = 0; c < K; ++c) {
      if (bb[c] > 0.0) worst = std::max(worst, std::sqrt(rr[c] / bb[c]));
      active[c] = active[c] && rr[c] > 0.0 && std::sqrt(rr[c]) >= atol[c];
      any = any || active[c];
    }
    if (history) history[step] = worst;
    return any;
  };
  residual();
  int step = 0;
  if (!krylov) {  // the plain multigrid iteration
    for (; record(step) && step < maxiter; ++step) {
      mg.cycle(r.data(), z.data());
      parallel_for(n * W, [&](int64_t t) {
        if (active[t % K]) x[t] += z[t];
      });
      residual();
    }
    return step;
  }
  std::vector<double> rho;
  for (; record(step) && step < maxiter; ++step) {
    mg.cycle(r.data(), z.data());
    const std::vector<double> rz = sums(r.data(), z.data());
    for (int c = 0; c < K; ++c) beta[c] = step > 0 && active[c] ? rz[c] / rho[c] : 0.0;
    rho = rz;
    parallel_for(n * W, [&](int64_t t) { p[t] = p[t] * beta[t % K] + z[t]; });
    apply(p.data(), q.data());
    const std::vector<double> pq = sums(p.data(), q.data());
    for (int c = 0; c < K; ++c) alpha[c] = active[c] && pq[c] > 0.0 ? rho[c] / pq[c] : 0.0;
    parallel_for(n * W, [&](int64_t t) {
      x[t] += alpha[t % K] * p[t];
      r[t] -= alpha[t % K] * q[t];
    });
  }
  return step;
}

Level make_level(int64_t h, int64_t w, const double* wx, const double* wy, const double* extra,
                 const double* block) {
  Level lv;
  lv.h = h, lv.w = w, lv.wx = wx, lv.wy = wy, lv.block = block;
  lv.extra.assign(extra, extra + h * w);
  fill_diag(lv);
  return lv;
}

}  // namespace

int multigrid_cpu(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                  const double* block, const int64_t* indptr, const int32_t* indices,
                  const double* values, const double* b, double* x, double rtol, int maxiter,
                  bool krylov, double* history) {
  return dispatch(m, k, [&](auto s) {
    return solve<decltype(s)::m, decltype(s)::k>(h, w, wx, wy, block, indptr, indices, values, b,
                                                 x, rtol, maxiter, krylov, history);
  });
}

void grid_apply_cpu(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                    const double* extra, const double* block, const double* x, double* out) {
  const Level lv = make_level(h, w, wx, wy, extra, block);
  const Grid g = lv.grid();
  dispatch(m, k, [&](auto s) {
    constexpr int M = decltype(s)::m, K = decltype(s)::k;
    parallel_for(h * w, [&](int64_t i) { apply_px<M, K>(g, x, i, out + i * M * K); });
    return 0;
  });
}

void grid_relax_cpu(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                    const double* extra, const double* block, const double* f, double* x,
                    int color) {
  const Level lv = make_level(h, w, wx, wy, extra, block);
  dispatch(m, k, [&](auto s) {
    relax_color<decltype(s)::m, decltype(s)::k>(lv.grid(), f, x, color);
    return 0;
  });
}

void grid_coarsen_cpu(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                      const double* extra, const double* block, double* cwx, double* cwy,
                      double* cextra, double* cblock) {
  const Level lv = make_level(h, w, wx, wy, extra, block);
  const int64_t hc = coarse_size(h), wc = coarse_size(w);
  dispatch(m, k, [&](auto s) {
    parallel_for(hc * wc, [&](int64_t I) {
      coarsen_px<decltype(s)::m, decltype(s)::k>(lv.grid(), extra, hc, wc, I, cwx, cwy, cextra, cblock);
    });
    return 0;
  });
}

void grid_restrict_cpu(int64_t h, int64_t w, int width, const double* wx, const double* wy,
                       const double* r, double* out) {
  const int64_t wc = coarse_size(w), n = coarse_size(h) * wc;
  const Grid g{h, w, wx, wy, nullptr, nullptr};
  dispatch(1, width, [&](auto s) {
    parallel_for(n, [&](int64_t I) { restrict_px<decltype(s)::k>(g, r, wc, I, out); });
    return 0;
  });
}

void grid_prolong_cpu(int64_t h, int64_t w, int width, const double* wx, const double* wy,
                      const double* e, double* x) {
  const int64_t wc = coarse_size(w);
  const Grid g{h, w, wx, wy, nullptr, nullptr};
  dispatch(1, width, [&](auto s) {
    parallel_for(h * w, [&](int64_t i) { prolong_px<decltype(s)::k>(g, e, wc, x, i); });
    return 0;
  });
}

}  // namespace transfer::solve
