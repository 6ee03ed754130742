// The iteration of the grid multigrid solve, shared by the CPU and CUDA drivers: the stopping
// rule (each system until |r_c| < rtol |b_c|), the history, and either conjugate gradient
// preconditioned by one V-cycle or the plain multigrid iteration. The driver's StepOps does the
// passes over the vectors b, x, r, z (= V(r)), p and q (= A p), on its device:
//   dots(which) -> per-system sums of b.b, r.r, r.z or p.q;  clear(active): x = 0 where b = 0;
//   residual(): r = b - A x;  cycle(): z = V(r);  add_z(on): x += on z;
//   update_p(beta): p = beta p + z;  apply_p(): q = A p;  update_xr(alpha): x += a p, r -= a q.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace transfer::solve {

enum class Dot { bb, rr, rz, pq };

struct StepOps {
  std::function<std::vector<double>(Dot)> dots;
  std::function<void(const std::vector<char>&)> clear;
  std::function<void()> residual, cycle, apply_p;
  std::function<void(const std::vector<double>&)> add_z, update_p, update_xr;
};

template <int K>
int multigrid_steps(const StepOps& ops, double rtol, int maxiter, bool krylov, double* history) {
  const std::vector<double> bb = ops.dots(Dot::bb);
  std::vector<double> atol(K), alpha(K, 0.0), beta(K, 0.0), on(K), rho;
  std::vector<char> active(K);
  for (int c = 0; c < K; ++c) atol[c] = rtol * std::sqrt(bb[c]), active[c] = bb[c] > 0.0;
  ops.clear(active);
  auto record = [&](int step) {  // |r_c|, the history, and which systems go on
    const std::vector<double> rr = ops.dots(Dot::rr);
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
  ops.residual();
  int step = 0;
  for (; record(step) && step < maxiter; ++step) {
    ops.cycle();
    if (!krylov) {  // the plain multigrid iteration
      for (int c = 0; c < K; ++c) on[c] = active[c] ? 1.0 : 0.0;
      ops.add_z(on);
      ops.residual();
      continue;
    }
    const std::vector<double> rz = ops.dots(Dot::rz);
    for (int c = 0; c < K; ++c) beta[c] = step > 0 && active[c] ? rz[c] / rho[c] : 0.0;
    rho = rz;
    ops.update_p(beta);
    ops.apply_p();
    const std::vector<double> pq = ops.dots(Dot::pq);
    for (int c = 0; c < K; ++c) alpha[c] = active[c] && pq[c] > 0.0 ? rho[c] / pq[c] : 0.0;
    ops.update_xr(alpha);
  }
  return step;
}

}  // namespace transfer::solve
