// Grid systems of the local affine models and the edge-aware smoothing, solved by conjugate
// gradient preconditioned with one multigrid V-cycle (multigrid_kernel.h has the operator).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace transfer::solve {

// The k systems A_c x_c = b_c over an h x w grid with m unknowns per node:
//   A x = (4-neighbour Laplacian of weights wx, wy) x + (L_nl x) + B x,
// L_nl an optional sparse n x n matrix in CSR form (indptr null: none), shared by every
// system and unknown like the stencil: the non-local term. The preconditioner is one V-cycle
// over grids of every other node (interpolation along the edges, restriction its transpose,
// two red-black Gauss-Seidel sweeps before and after the coarse correction, the second ones
// in reverse order, so that it is symmetric); L_nl's edges on every grid (a coarse node keeps
// its strongest ones), relaxed as an l1-weighted Jacobi step.
// krylov: conjugate gradient (each system its own steps, stopping at |r_c| < rtol |b_c|);
// otherwise the plain multigrid iteration x += V(b - A x). history, if not null, receives the
// largest |r_c| / |b_c| before the first step and after each (maxiter + 1 entries at most).
// Sums run over fixed chunks in a fixed order: the same result for any thread count.
// x: the start on entry, the solution on exit. Returns the number of steps run.
// m is 1 or 2; k at most 6 (m = 1) or 3 (m = 2).
int multigrid_cpu(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                  const double* block, const int64_t* indptr, const int32_t* indices,
                  const double* values, const double* b, double* x, double rtol, int maxiter,
                  bool krylov, double* history);

// The bodies one at a time, for the tests against the NumPy reference.
// out = A x (the stencil with diag = edge weights + extra, and the blocks; no L_nl)
void grid_apply_cpu(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                    const double* extra, const double* block, const double* x, double* out);
// one Gauss-Seidel half-sweep over the nodes of one color ((row + col) % 2 == color)
void grid_relax_cpu(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                    const double* extra, const double* block, const double* f, double* x,
                    int color);
// the coarse grid (cwx, cwy, cextra: hc wc; cblock: hc wc m m k)
void grid_coarsen_cpu(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                      const double* extra, const double* block, double* cwx, double* cwy,
                      double* cextra, double* cblock);
// restriction P^T r and prolongation x += P e (width = m k values per node)
void grid_restrict_cpu(int64_t h, int64_t w, int width, const double* wx, const double* wy,
                       const double* r, double* out);
void grid_prolong_cpu(int64_t h, int64_t w, int width, const double* wx, const double* wy,
                      const double* e, double* x);

constexpr bool grid_shape_supported(int m, int k) {
  return (m == 1 && k >= 1 && k <= 6) || (m == 2 && k >= 1 && k <= 3);
}

// One grid of the hierarchy with its own arrays (Grid's fields), for a driver that copies
// them to the device.
struct GridLevel {
  int64_t h = 0, w = 0;
  std::vector<double> wx, wy, diag, block, far_w;
  std::vector<int64_t> far_ptr;  // empty: no non-local edges
  std::vector<int32_t> far_idx;
};

// The hierarchy multigrid_cpu builds for these arguments, finest grid first.
std::vector<GridLevel> multigrid_levels(int64_t h, int64_t w, int m, int k, const double* wx,
                                        const double* wy, const double* block,
                                        const int64_t* indptr, const int32_t* indices,
                                        const double* values);

namespace cuda {
// multigrid_cpu on the GPU, over host arrays: the hierarchy is built on the host
// (multigrid_levels) and copied once, the cycles and the steps run on the device.
int multigrid(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
              const double* block, const int64_t* indptr, const int32_t* indices,
              const double* values, const double* b, double* x, double rtol, int maxiter,
              bool krylov, double* history);
// The bodies one at a time over device arrays (grid_*_cpu's; diag instead of extra).
void grid_apply(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                const double* diag, const double* block, const double* x, double* out);
void grid_relax(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                const double* diag, const double* block, const double* f, double* x, int color);
void grid_coarsen(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                  const double* extra, const double* block, double* cwx, double* cwy,
                  double* cextra, double* cblock);
void grid_restrict(int64_t h, int64_t w, int width, const double* wx, const double* wy,
                   const double* r, double* out);
void grid_prolong(int64_t h, int64_t w, int width, const double* wx, const double* wy,
                  const double* e, double* x);
}  // namespace cuda

template <int M, int K>
struct Shape {
  static constexpr int m = M, k = K;
};

// Calls fn(Shape<m, k>{}) for the supported shapes (the bodies' loops then unroll).
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

}  // namespace transfer::solve
