#include "solve/pcg.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/parallel.h"

namespace transfer::solve {
namespace {

// M, K > 0 fix the number of unknowns per node and of systems at compile time (the common
// shapes: the inner loops then unroll and vectorise); 0 takes the run-time value. Every pass
// runs over chunks of nodes (chunked_range_sums), which also sums its dot products.
template <int M, int K>
class Solver {
 public:
  Solver(const int64_t* indptr, const int32_t* indices, const double* values,
         const double* block, int64_t n, int m, int k)
      : indptr_(indptr), indices_(indices), values_(values), block_(block), n_(n),
        m_(M > 0 ? M : m), k_(K > 0 ? K : k), wd_(m_ * k_), inv_diag_(n * wd_), r_(n * wd_),
        z_(n * wd_), p_(n * wd_, 0.0), q_(n * wd_) {}

  int run(const double* b, double* x, double rtol, int maxiter) {
    const int k = k_;
    parallel_for(n_, [&](int64_t i) { jacobi_row(i); }, kSerialNodes);
    const std::vector<double> bb = chunked_range_sums(n_, k, [&](int64_t i0, int64_t i1, double* s) {
      dots(b, b, i0, i1, s);
    });
    std::vector<double> atol(k), alpha(k, 0.0), beta(k, 0.0);
    std::vector<char> active(k);
    for (int c = 0; c < k; ++c) {
      atol[c] = rtol * std::sqrt(bb[c]);
      active[c] = bb[c] > 0.0;
    }
    parallel_for(n_, [&](int64_t i) {  // x = 0 for a system whose b = 0 (cg returns b)
      for (int t = 0; t < wd_; ++t)
        if (!active[t % k]) x[i * wd_ + t] = 0.0;
    }, kSerialNodes);
    // r = b - A x, z = M r; sums r.r and r.z
    std::vector<double> sums = chunked_range_sums(n_, 2 * k, [&](int64_t i0, int64_t i1, double* s) {
      for (int64_t i = i0; i < i1; ++i) apply_row(x, i, &r_[i * wd_]);
      for (int64_t t = i0 * wd_; t < i1 * wd_; ++t) r_[t] = b[t] - r_[t];
      precondition(i0, i1, s);
    });
    std::vector<double> rr(sums.begin(), sums.begin() + k), rho(sums.begin() + k, sums.end());
    int step = 0;
    for (; step < maxiter; ++step) {
      bool any = false;
      for (int c = 0; c < k; ++c) {
        // cg: |r| < atol stops; so does r = 0 (rtol = 0 would divide 0 by 0 next)
        active[c] = active[c] && rr[c] > 0.0 && std::sqrt(rr[c]) >= atol[c];
        any = any || active[c];
      }
      if (!any) break;
      // p = beta p + z (beta = 0 on the first step), as cg's p *= beta; p += z
      const double* bt = beta.data();
      parallel_for(n_, [&](int64_t i) {
        for (int u = 0; u < m(); ++u)
          for (int c = 0; c < kk(); ++c) {
            const int64_t t = (i * m() + u) * kk() + c;
            p_[t] = p_[t] * bt[c] + z_[t];
          }
      }, kSerialNodes);
      // q = A p, with the sums p.q
      const std::vector<double> pq = chunked_range_sums(n_, k, [&](int64_t i0, int64_t i1, double* s) {
        for (int64_t i = i0; i < i1; ++i) apply_row(p_.data(), i, &q_[i * wd_]);
        dots(p_.data(), q_.data(), i0, i1, s);
      });
      for (int c = 0; c < k; ++c) alpha[c] = active[c] && pq[c] > 0.0 ? rho[c] / pq[c] : 0.0;
      // x += alpha p, r -= alpha q, z = M r, with the sums r.r and r.z
      const double* al = alpha.data();
      sums = chunked_range_sums(n_, 2 * k, [&](int64_t i0, int64_t i1, double* s) {
        for (int64_t i = i0; i < i1; ++i)
          for (int u = 0; u < m(); ++u)
            for (int c = 0; c < kk(); ++c) {
              const int64_t t = (i * m() + u) * kk() + c;
              x[t] += al[c] * p_[t];
              r_[t] -= al[c] * q_[t];
            }
        precondition(i0, i1, s);
      });
      for (int c = 0; c < k; ++c) {
        rr[c] = sums[c];
        beta[c] = active[c] ? sums[k + c] / rho[c] : 0.0;
        rho[c] = sums[k + c];
      }
    }
    return step;
  }

 private:
  int m() const { return M > 0 ? M : m_; }
  int kk() const { return K > 0 ? K : k_; }

  // out = (A x) at node i: its m unknowns for the k systems
  void apply_row(const double* x, int64_t i, double* out) const {
    constexpr int kW = M > 0 && K > 0 ? M * K : kMaxWidth;
    const int wd = m() * kk();
    double acc[kW] = {0};
    for (int64_t l = indptr_[i]; l < indptr_[i + 1]; ++l) {
      const double v = values_[l];
      const double* xj = x + static_cast<int64_t>(indices_[l]) * wd;
      for (int t = 0; t < wd; ++t) acc[t] += v * xj[t];
    }
    const double* xi = x + i * wd;
    const double* bi = block_ + i * m() * wd;  // (m, m, k) of node i
    for (int u = 0; u < m(); ++u)
      for (int v = 0; v < m(); ++v)
        for (int c = 0; c < kk(); ++c) acc[u * kk() + c] += bi[(u * m() + v) * kk() + c] * xi[v * kk() + c];
    for (int t = 0; t < wd; ++t) out[t] = acc[t];
  }

  // the inverse of A's diagonal at node i (floored like the 1e-12 of the Python version)
  void jacobi_row(int64_t i) {
    double lii = 0.0;
    for (int64_t l = indptr_[i]; l < indptr_[i + 1]; ++l)
      if (indices_[l] == i) lii += values_[l];
    for (int u = 0; u < m(); ++u)
      for (int c = 0; c < kk(); ++c)
        inv_diag_[(i * m() + u) * kk() + c] =
            1.0 / std::max(lii + block_[(i * m() + u) * wd_ + u * kk() + c], 1e-12);
  }

  // s[c] += sum over nodes [i0, i1) and their unknowns of u * v, per system c
  void dots(const double* u, const double* v, int64_t i0, int64_t i1, double* s) const {
    for (int64_t i = i0; i < i1; ++i)
      for (int a = 0; a < m(); ++a)
        for (int c = 0; c < kk(); ++c) {
          const int64_t t = (i * m() + a) * kk() + c;
          s[c] += u[t] * v[t];
        }
  }

  // z = M r over nodes [i0, i1); s[0, k) += r.r, s[k, 2k) += r.z
  void precondition(int64_t i0, int64_t i1, double* s) {
    for (int64_t t = i0 * wd_; t < i1 * wd_; ++t) z_[t] = inv_diag_[t] * r_[t];
    dots(r_.data(), r_.data(), i0, i1, s);
    dots(r_.data(), z_.data(), i0, i1, s + kk());
  }

  const int64_t* indptr_;
  const int32_t* indices_;
  const double* values_;
  const double* block_;
  int64_t n_;
  int m_, k_, wd_;
  std::vector<double> inv_diag_, r_, z_, p_, q_;
};

template <int M, int K>
int solve(const int64_t* indptr, const int32_t* indices, const double* values, int64_t n, int m,
          int k, const double* block, const double* b, double* x, double rtol, int maxiter) {
  return Solver<M, K>(indptr, indices, values, block, n, m, k).run(b, x, rtol, maxiter);
}

}  // namespace

int pcg_cpu(const int64_t* indptr, const int32_t* indices, const double* values, int64_t n,
            int m, int k, const double* block, const double* b, double* x, double rtol,
            int maxiter) {
  // the shapes of the pipeline: affine models (2 unknowns, 3 channels) and smoothing of 1 to
  // 6 maps; any other shape runs the same code with run-time sizes
  if (m == 2 && k == 3) return solve<2, 3>(indptr, indices, values, n, m, k, block, b, x, rtol, maxiter);
  if (m == 1 && k == 1) return solve<1, 1>(indptr, indices, values, n, m, k, block, b, x, rtol, maxiter);
  if (m == 1 && k == 2) return solve<1, 2>(indptr, indices, values, n, m, k, block, b, x, rtol, maxiter);
  if (m == 1 && k == 3) return solve<1, 3>(indptr, indices, values, n, m, k, block, b, x, rtol, maxiter);
  if (m == 1 && k == 6) return solve<1, 6>(indptr, indices, values, n, m, k, block, b, x, rtol, maxiter);
  return solve<0, 0>(indptr, indices, values, n, m, k, block, b, x, rtol, maxiter);
}

}  // namespace transfer::solve
