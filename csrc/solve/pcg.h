// Several sparse symmetric positive-definite systems that share a graph Laplacian, solved
// together by conjugate gradient: the local affine color models of the neural transfer
// (three Lab channels, two unknowns a and b per pixel) and the edge-aware smoothing of
// coefficient and chroma maps (one unknown per pixel and channel).
#pragma once

#include <cstdint>

namespace transfer::solve {

// The k systems A_c x_c = b_c (c < k) over n nodes with m unknowns each:
//   (A_c x)[i, u] = sum_j L[i, j] x[j, u] + sum_v B[i, u, v, c] x[i, v]
// with L an n x n sparse matrix in CSR form (indptr n + 1, indices and values), shared by
// every system and unknown, and B one m x m block per node and system. Arrays are node-major
// and contiguous: b and x (n, m, k), B (n, m, m, k); m k <= kMaxWidth.
//
// Jacobi-preconditioned conjugate gradient with the iteration and the stopping rule of
// scipy.sparse.linalg.cg, per system (|r| < rtol |b| stops it; b = 0 gives x = 0), so each
// system gets cg's iterates up to rounding; batching reads L once per step for all of them.
// Sums run over fixed chunks in a fixed order: the same result for any thread count.
// x: the start on entry, the solution on exit. Returns the number of steps run.
constexpr int kMaxWidth = 16;

int pcg_cpu(const int64_t* indptr, const int32_t* indices, const double* values, int64_t n,
            int m, int k, const double* block, const double* b, double* x, double rtol,
            int maxiter);

}  // namespace transfer::solve
