#include "solve/multigrid.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <vector>

#include "common/parallel.h"
#include "solve/multigrid_kernel.h"
#include "solve/multigrid_steps.h"

namespace transfer::solve {
namespace {

constexpr int kSweeps = 2;           // red-black sweeps before and after the coarse correction
constexpr int kCoarsestSweeps = 16;  // symmetric sweeps on the coarsest grid
constexpr int64_t kCoarsest = 64;    // nodes: coarsening stops at this size

struct Level {
  int64_t h = 0, w = 0;
  const double* wx = nullptr;  // the caller's arrays on the finest grid, own ones below
  const double* wy = nullptr;
  const double* block = nullptr;
  std::vector<double> own_wx, own_wy, own_block, extra, diag, x, f, r, held;
  std::vector<int64_t> far_ptr;  // the non-local edges (Grid's far_*), empty: none
  std::vector<int32_t> far_idx;
  std::vector<double> far_w;
  int64_t n() const { return h * w; }
  Grid grid() const {
    Grid g{h, w, wx, wy, diag.data(), block};
    if (!far_ptr.empty()) g.far_ptr = far_ptr.data(), g.far_idx = far_idx.data(), g.far_w = far_w.data();
    return g;
  }
};

// The non-local edges of the coarse grid: each fine edge between the 2 x 2 blocks of two
// coarse nodes joins them (those inside a block vanish), the weights of one pair summed in
// the order of their values (so that the pair's two directions get the same sum). Each coarse
// node keeps its kFarKept strongest edges, and an edge stays where either end keeps it (so
// the matrix stays symmetric): the edges would otherwise multiply on the coarse grids, as
// non-local neighbours are far apart. The coarse extra becomes the kept edges' degree.
constexpr int kFarKept = 8;

void coarsen_far(const Level& fine, Level& c) {
  struct Edge {
    int64_t to;
    double w;
  };
  const int64_t cn = c.n();
  auto parent = [&](int64_t i) { return (i / fine.w / 2) * c.w + (i % fine.w) / 2; };
  auto children = [&](int64_t I, auto&& fn) {  // the fine nodes of I's 2 x 2 block
    const int64_t row = 2 * (I / c.w), col = 2 * (I % c.w);
    for (int64_t y = row; y < std::min(row + 2, fine.h); ++y)
      for (int64_t x = col; x < std::min(col + 2, fine.w); ++x) fn(y * fine.w + x);
  };
  // each coarse row's pairs, merged in place over room for all of its children's edges
  std::vector<int64_t> room(cn + 1, 0), count(cn, 0);
  for (int64_t I = 0; I < cn; ++I) {
    int64_t n = 0;
    children(I, [&](int64_t i) { n += fine.far_ptr[i + 1] - fine.far_ptr[i]; });
    room[I + 1] = room[I] + n;
  }
  std::vector<Edge> pairs(room[cn]);
  std::vector<double> floor(cn, 0.0);  // each row's kFarKept-th largest weight
  parallel_for(cn, [&](int64_t I) {
    Edge* row = pairs.data() + room[I];
    int64_t n = 0;
    children(I, [&](int64_t i) {
      for (int64_t l = fine.far_ptr[i]; l < fine.far_ptr[i + 1]; ++l) {
        const int64_t J = parent(fine.far_idx[l]);
        if (J != I) row[n++] = {J, fine.far_w[l]};
      }
    });
    std::sort(row, row + n, [](const Edge& a, const Edge& b) { return a.to < b.to || (a.to == b.to && a.w < b.w); });
    int64_t m = 0;
    for (int64_t e = 0; e < n; ++e) {
      const Edge edge = row[e];  // read before a new pair may take its place
      if (m == 0 || edge.to != row[m - 1].to) row[m++] = {edge.to, 0.0};
      row[m - 1].w += edge.w;
    }
    count[I] = m;
    if (m > kFarKept) {
      std::vector<double> w(m);
      for (int64_t e = 0; e < m; ++e) w[e] = row[e].w;
      std::nth_element(w.begin(), w.begin() + (kFarKept - 1), w.end(), std::greater<double>());
      floor[I] = w[kFarKept - 1];
    }
  }, kSerialNodes);
  auto kept = [&](int64_t I, const Edge& e) { return !(e.w < floor[I] && e.w < floor[e.to]); };
  c.far_ptr.assign(cn + 1, 0);
  parallel_for(cn, [&](int64_t I) {
    const Edge* row = pairs.data() + room[I];
    for (int64_t e = 0; e < count[I]; ++e) c.far_ptr[I + 1] += kept(I, row[e]);
  }, kSerialNodes);
  for (int64_t I = 0; I < cn; ++I) c.far_ptr[I + 1] += c.far_ptr[I];
  c.far_idx.resize(c.far_ptr[cn]), c.far_w.resize(c.far_ptr[cn]);
  parallel_for(cn, [&](int64_t I) {
    const Edge* row = pairs.data() + room[I];
    int64_t at = c.far_ptr[I];
    double degree = 0.0;
    for (int64_t e = 0; e < count[I]; ++e) {
      if (!kept(I, row[e])) continue;
      c.far_idx[at] = static_cast<int32_t>(row[e].to), c.far_w[at++] = row[e].w;
      degree += row[e].w;
    }
    c.extra[I] = degree;
  }, kSerialNodes);
}

void fill_diag(Level& lv) {
  lv.diag.resize(lv.n());
  parallel_for(lv.n(), [&](int64_t i) {
    lv.diag[i] = degree_px(lv.h, lv.w, lv.wx, lv.wy, lv.extra.data(), i);
  }, kSerialNodes);
}

// A Gauss-Seidel half-sweep over one color; the non-local neighbours read from x as it was
// (``held``, a buffer of x's size, used only where the grid has such edges)
template <int M, int K>
void relax_color(const Grid& g, const double* f, double* x, double* held, int color) {
  const double* from = x;
  if (g.far_ptr != nullptr) {
    parallel_for(g.h * g.w * M * K, [&](int64_t t) { held[t] = x[t]; }, kSerialNodes * M * K);
    from = held;
  }
  parallel_for(g.h, [&](int64_t row) {
    for (int64_t col = (row + color) & 1; col < g.w; col += 2) relax_px<M, K>(g, f, from, x, row * g.w + col);
  }, (kSerialNodes + g.w - 1) / g.w);
}

template <int M, int K>
class Multigrid {
 public:
  static constexpr int W = M * K;

  // The finest grid; its non-local edges from a Laplacian in CSR form (indptr null: none):
  // the off-diagonal entries as edges of weight -value, the diagonal as extra.
  Multigrid(int64_t h, int64_t w, const double* wx, const double* wy, const double* block,
            const int64_t* indptr, const int32_t* indices, const double* values) {
    levels_.emplace_back();
    Level& top = levels_.back();
    top.h = h, top.w = w, top.wx = wx, top.wy = wy, top.block = block;
    top.extra.assign(top.n(), 0.0);
    if (indptr) {
      top.far_ptr.assign(top.n() + 1, 0);
      for (int64_t i = 0; i < top.n(); ++i) {
        for (int64_t l = indptr[i]; l < indptr[i + 1]; ++l) {
          if (indices[l] == i) {
            top.extra[i] += values[l];
          } else {
            top.far_idx.push_back(indices[l]);
            top.far_w.push_back(-values[l]);
          }
        }
        top.far_ptr[i + 1] = static_cast<int64_t>(top.far_idx.size());
      }
    }
    fill_diag(top);
    while (levels_.back().n() > kCoarsest && (levels_.back().h > 1 || levels_.back().w > 1)) coarsen();
    for (size_t l = 1; l < levels_.size(); ++l) {
      Level& lv = levels_[l];
      lv.x.assign(lv.n() * W, 0.0);
      lv.f.assign(lv.n() * W, 0.0);
    }
    for (Level& lv : levels_) {
      lv.r.assign(lv.n() * W, 0.0);
      if (!lv.far_ptr.empty()) lv.held.assign(lv.n() * W, 0.0);
    }
  }

  // z = one V-cycle on A z = f from z = 0 (the preconditioner: symmetric and fixed)
  void cycle(const double* f, double* z) { cycle(0, f, z); }

  const Level& top() const { return levels_[0]; }
  const std::vector<Level>& levels() const { return levels_; }

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
    }, kSerialNodes);
    c.wx = c.own_wx.data(), c.wy = c.own_wy.data(), c.block = c.own_block.data();
    if (!fine.far_ptr.empty()) coarsen_far(fine, c);
    fill_diag(c);
    levels_.push_back(std::move(c));
  }

  void cycle(size_t l, const double* f, double* x) {
    Level& lv = levels_[l];
    const Grid g = lv.grid();
    double* held = lv.held.data();
    std::fill(x, x + lv.n() * W, 0.0);
    if (l + 1 == levels_.size()) {
      for (int s = 0; s < kCoarsestSweeps; ++s) {
        relax_color<M, K>(g, f, x, held, 0), relax_color<M, K>(g, f, x, held, 1);
        relax_color<M, K>(g, f, x, held, 1), relax_color<M, K>(g, f, x, held, 0);
      }
      return;
    }
    for (int s = 0; s < kSweeps; ++s) relax_color<M, K>(g, f, x, held, 0), relax_color<M, K>(g, f, x, held, 1);
    double* r = lv.r.data();
    parallel_for(lv.n(), [&](int64_t i) { residual_px<M, K>(g, f, x, i, r); }, kSerialNodes);
    Level& c = levels_[l + 1];
    parallel_for(c.n(), [&](int64_t I) { restrict_px<W>(g, r, c.w, I, c.f.data()); }, kSerialNodes);
    cycle(l + 1, c.f.data(), c.x.data());
    parallel_for(lv.n(), [&](int64_t i) { prolong_px<W>(g, c.x.data(), c.w, x, i); }, kSerialNodes);
    for (int s = 0; s < kSweeps; ++s) relax_color<M, K>(g, f, x, held, 1), relax_color<M, K>(g, f, x, held, 0);
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
  Multigrid<M, K> mg(h, w, wx, wy, block, indptr, indices, values);
  const Grid g = mg.top().grid();
  std::vector<double> r(n * W), z(n * W), p(n * W, 0.0), q(n * W);
  auto apply = [&](const double* v, double* out) {  // A v, the non-local edges included
    parallel_for(n, [&](int64_t i) { apply_px<M, K>(g, v, i, out + i * W); }, kSerialNodes);
  };
  const StepOps ops{
      [&](Dot d) {
        const double* u = d == Dot::bb ? b : d == Dot::pq ? p.data() : r.data();
        const double* v = d == Dot::bb ? b : d == Dot::rr ? r.data() : d == Dot::rz ? z.data() : q.data();
        return chunked_range_sums(n, K, [&](int64_t i0, int64_t i1, double* s) { dots<M, K>(u, v, i0, i1, s); });
      },
      [&](const std::vector<char>& active) {
        parallel_for(n * W, [&](int64_t t) { x[t] = active[t % K] ? x[t] : 0.0; }, kSerialNodes * W);
      },
      [&]() { parallel_for(n, [&](int64_t i) { residual_px<M, K>(g, b, x, i, r.data()); }, kSerialNodes); },
      [&]() { mg.cycle(r.data(), z.data()); },
      [&]() { apply(p.data(), q.data()); },
      [&](const std::vector<double>& on) { parallel_for(n * W, [&](int64_t t) { x[t] += on[t % K] * z[t]; }, kSerialNodes * W); },
      [&](const std::vector<double>& beta) {
        parallel_for(n * W, [&](int64_t t) { p[t] = p[t] * beta[t % K] + z[t]; }, kSerialNodes * W);
      },
      [&](const std::vector<double>& alpha) {
        parallel_for(n * W, [&](int64_t t) {
          x[t] += alpha[t % K] * p[t];
          r[t] -= alpha[t % K] * q[t];
        }, kSerialNodes * W);
      }};
  return multigrid_steps<K>(ops, rtol, maxiter, krylov, history);
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

std::vector<GridLevel> multigrid_levels(int64_t h, int64_t w, int m, int k, const double* wx,
                                        const double* wy, const double* block,
                                        const int64_t* indptr, const int32_t* indices,
                                        const double* values) {
  return dispatch(m, k, [&](auto s) {
    constexpr int M = decltype(s)::m, K = decltype(s)::k;
    const Multigrid<M, K> mg(h, w, wx, wy, block, indptr, indices, values);
    std::vector<GridLevel> out;
    for (const Level& lv : mg.levels()) {
      GridLevel g;
      g.h = lv.h, g.w = lv.w;
      g.wx.assign(lv.wx, lv.wx + lv.n()), g.wy.assign(lv.wy, lv.wy + lv.n());
      g.block.assign(lv.block, lv.block + lv.n() * M * M * K);
      g.diag = lv.diag, g.far_ptr = lv.far_ptr, g.far_idx = lv.far_idx, g.far_w = lv.far_w;
      out.push_back(std::move(g));
    }
    return out;
  });
}

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
    relax_color<decltype(s)::m, decltype(s)::k>(lv.grid(), f, x, nullptr, color);
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
