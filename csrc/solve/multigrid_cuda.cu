// The grid multigrid on the GPU: the bodies of multigrid_kernel.h in CUDA kernels, and the
// multigrid-preconditioned conjugate gradient of multigrid_cpu.cpp over them. The hierarchy
// is built on the host (multigrid_levels) and copied once; cycles and steps run on the device.
// Dot products are summed per block in a fixed tree and the block sums in block order on the
// host: the same result on every run (not bit-identical to the CPU's chunk order).
#include <algorithm>
#include <cmath>
#include <vector>

#include "common/cuda_check.h"
#include "solve/multigrid.h"
#include "solve/multigrid_kernel.h"
#include "solve/multigrid_steps.h"

namespace transfer::solve::cuda {
namespace {

using transfer::cuda::grid_size;
using transfer::cuda::kThreads;

constexpr int kSweeps = 2;           // as multigrid_cpu.cpp
constexpr int kCoarsestSweeps = 16;
constexpr int kDotBlock = 256;       // threads of a dot-product block (a power of two)
constexpr int64_t kDotNodes = 4096;  // nodes per dot-product block

template <class T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t n) : n_(n) {
    if (n_) TRANSFER_CUDA_CHECK(cudaMalloc(&p_, n_ * sizeof(T)));
  }
  explicit Buffer(const std::vector<T>& v) : Buffer(v.size()) { upload(v.data()); }
  Buffer(Buffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(p_, o.p_), std::swap(n_, o.n_);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  ~Buffer() {
    if (p_) cudaFree(p_);
  }
  T* get() const { return p_; }
  void upload(const T* h) {
    if (n_) TRANSFER_CUDA_CHECK(cudaMemcpy(p_, h, n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  void download(T* h) const {
    if (n_) TRANSFER_CUDA_CHECK(cudaMemcpy(h, p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
  }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

struct DeviceLevel {
  int64_t h, w;
  Buffer<double> wx, wy, diag, block, far_w, x, f, r, held;
  Buffer<int64_t> far_ptr;
  Buffer<int32_t> far_idx;
  bool far;
  int64_t n() const { return h * w; }
  Grid grid() const {
    Grid g{h, w, wx.get(), wy.get(), diag.get(), block.get()};
    if (far) g.far_ptr = far_ptr.get(), g.far_idx = far_idx.get(), g.far_w = far_w.get();
    return g;
  }
};

template <int M, int K>
__global__ void apply_kernel(Grid g, const double* x, double* out) {
  TRANSFER_GRID_STRIDE(i, g.h * g.w) apply_px<M, K>(g, x, i, out + i * M * K);
}

template <int M, int K>
__global__ void residual_kernel(Grid g, const double* f, const double* x, double* r) {
  TRANSFER_GRID_STRIDE(i, g.h * g.w) residual_px<M, K>(g, f, x, i, r);
}

template <int M, int K>
__global__ void relax_kernel(Grid g, const double* f, const double* held, double* x, int color) {
  TRANSFER_GRID_STRIDE(i, g.h * g.w) {
    if (((i / g.w + i % g.w) & 1) == color) relax_px<M, K>(g, f, held, x, i);
  }
}

template <int W>
__global__ void restrict_kernel(Grid g, const double* r, int64_t wc, int64_t nc, double* out) {
  TRANSFER_GRID_STRIDE(I, nc) restrict_px<W>(g, r, wc, I, out);
}

template <int W>
__global__ void prolong_kernel(Grid g, const double* e, int64_t wc, double* x) {
  TRANSFER_GRID_STRIDE(i, g.h * g.w) prolong_px<W>(g, e, wc, x, i);
}

template <int M, int K>
__global__ void coarsen_kernel(Grid g, const double* extra, int64_t hc, int64_t wc, double* cwx,
                               double* cwy, double* cextra, double* cblock) {
  TRANSFER_GRID_STRIDE(I, hc * wc) coarsen_px<M, K>(g, extra, hc, wc, I, cwx, cwy, cextra, cblock);
}

// partial[b K + c] = sum over block b's nodes of u . v, system c (a fixed tree per block)
template <int M, int K>
__global__ void dots_kernel(const double* u, const double* v, int64_t n, double* partial) {
  __shared__ double s[kDotBlock][K];
  double acc[K];
  for (int c = 0; c < K; ++c) acc[c] = 0.0;
  const int64_t end = min(n, (blockIdx.x + 1) * kDotNodes);
  for (int64_t i = blockIdx.x * kDotNodes + threadIdx.x; i < end; i += kDotBlock)
    for (int t = 0; t < M * K; ++t) acc[t % K] += u[i * M * K + t] * v[i * M * K + t];
  for (int c = 0; c < K; ++c) s[threadIdx.x][c] = acc[c];
  __syncthreads();
  for (int width = kDotBlock / 2; width > 0; width /= 2) {
    if (threadIdx.x < width)
      for (int c = 0; c < K; ++c) s[threadIdx.x][c] += s[threadIdx.x + width][c];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    for (int c = 0; c < K; ++c) partial[blockIdx.x * K + c] = s[0][c];
}

template <int K>
struct Coefs {
  double v[K];
};

// p = beta p + z, per system
template <int K>
__global__ void update_p_kernel(double* p, const double* z, Coefs<K> beta, int64_t len) {
  TRANSFER_GRID_STRIDE(t, len) p[t] = p[t] * beta.v[t % K] + z[t];
}

// x += alpha p, r -= alpha q, per system
template <int K>
__global__ void update_xr_kernel(double* x, double* r, const double* p, const double* q,
                                 Coefs<K> alpha, int64_t len) {
  TRANSFER_GRID_STRIDE(t, len) {
    x[t] += alpha.v[t % K] * p[t];
    r[t] -= alpha.v[t % K] * q[t];
  }
}

// x = 0 for the systems whose keep is 0 (those whose b = 0)
template <int K>
__global__ void scale_kernel(double* x, Coefs<K> keep, int64_t len) {
  TRANSFER_GRID_STRIDE(t, len) if (keep.v[t % K] == 0.0) x[t] = 0.0;
}

// x += z where the system is still active (the plain multigrid iteration)
template <int K>
__global__ void add_kernel(double* x, const double* z, Coefs<K> on, int64_t len) {
  TRANSFER_GRID_STRIDE(t, len) x[t] += on.v[t % K] * z[t];
}

void check_launch() { TRANSFER_CUDA_CHECK(cudaGetLastError()); }

template <int M, int K>
class Solver {
 public:
  static constexpr int W = M * K;

  explicit Solver(const std::vector<GridLevel>& levels) {
    for (size_t l = 0; l < levels.size(); ++l) {
      const GridLevel& hl = levels[l];
      DeviceLevel d{hl.h, hl.w, Buffer<double>(hl.wx), Buffer<double>(hl.wy), Buffer<double>(hl.diag),
                    Buffer<double>(hl.block), Buffer<double>(hl.far_w), Buffer<double>(hl.h * hl.w * W),
                    Buffer<double>(hl.h * hl.w * W), Buffer<double>(hl.h * hl.w * W),
                    Buffer<double>(hl.far_ptr.empty() ? 0 : hl.h * hl.w * W), Buffer<int64_t>(hl.far_ptr),
                    Buffer<int32_t>(hl.far_idx), !hl.far_ptr.empty()};
      levels_.push_back(std::move(d));
    }
  }

  const DeviceLevel& top() const { return levels_[0]; }

  // z = one V-cycle on A z = f from z = 0 (device arrays of the finest grid)
  void cycle(const double* f, double* z) { cycle(0, f, z); }

  // sums over the nodes of u . v per system, in a fixed order
  std::vector<double> dots(const double* u, const double* v) {
    const int64_t n = top().n();
    const int blocks = static_cast<int>((n + kDotNodes - 1) / kDotNodes);
    if (partial_host_.size() != static_cast<size_t>(blocks) * K) {
      partial_ = Buffer<double>(static_cast<size_t>(blocks) * K);
      partial_host_.resize(static_cast<size_t>(blocks) * K);
    }
    dots_kernel<M, K><<<blocks, kDotBlock>>>(u, v, n, partial_.get());
    check_launch();
    partial_.download(partial_host_.data());
    std::vector<double> total(K, 0.0);
    for (int b = 0; b < blocks; ++b)
      for (int c = 0; c < K; ++c) total[c] += partial_host_[b * K + c];
    return total;
  }

  void apply(const double* x, double* out) {
    const Grid g = top().grid();
    apply_kernel<M, K><<<grid_size(top().n()), kThreads>>>(g, x, out);
    check_launch();
  }

 private:
  void relax(DeviceLevel& lv, const Grid& g, const double* f, double* x, int color) {
    const double* from = x;
    if (lv.far) {
      TRANSFER_CUDA_CHECK(cudaMemcpy(lv.held.get(), x, lv.n() * W * sizeof(double), cudaMemcpyDeviceToDevice));
      from = lv.held.get();
    }
    relax_kernel<M, K><<<grid_size(lv.n()), kThreads>>>(g, f, from, x, color);
    check_launch();
  }

  void cycle(size_t l, const double* f, double* x) {
    DeviceLevel& lv = levels_[l];
    const Grid g = lv.grid();
    TRANSFER_CUDA_CHECK(cudaMemset(x, 0, lv.n() * W * sizeof(double)));
    if (l + 1 == levels_.size()) {
      for (int s = 0; s < kCoarsestSweeps; ++s) {
        relax(lv, g, f, x, 0), relax(lv, g, f, x, 1);
        relax(lv, g, f, x, 1), relax(lv, g, f, x, 0);
      }
      return;
    }
    for (int s = 0; s < kSweeps; ++s) relax(lv, g, f, x, 0), relax(lv, g, f, x, 1);
    residual_kernel<M, K><<<grid_size(lv.n()), kThreads>>>(g, f, x, lv.r.get());
    check_launch();
    DeviceLevel& c = levels_[l + 1];
    restrict_kernel<W><<<grid_size(c.n()), kThreads>>>(g, lv.r.get(), c.w, c.n(), c.f.get());
    check_launch();
    cycle(l + 1, c.f.get(), c.x.get());
    prolong_kernel<W><<<grid_size(lv.n()), kThreads>>>(g, c.x.get(), c.w, x);
    check_launch();
    for (int s = 0; s < kSweeps; ++s) relax(lv, g, f, x, 1), relax(lv, g, f, x, 0);
  }

  std::vector<DeviceLevel> levels_;
  Buffer<double> partial_;
  std::vector<double> partial_host_;
};

template <int K>
Coefs<K> coefs(const std::vector<double>& v) {
  Coefs<K> c;
  for (int j = 0; j < K; ++j) c.v[j] = v[j];
  return c;
}

template <int M, int K>
int solve(const std::vector<GridLevel>& levels, const double* b_host, double* x_host, double rtol,
          int maxiter, bool krylov, double* history) {
  constexpr int W = M * K;
  Solver<M, K> mg(levels);
  const int64_t n = mg.top().n(), len = n * W;
  const int blocks = grid_size(len);
  const Grid g = mg.top().grid();
  Buffer<double> b(len), x(len), r(len), z(len), p(len), q(len);
  b.upload(b_host);
  x.upload(x_host);
  TRANSFER_CUDA_CHECK(cudaMemset(p.get(), 0, len * sizeof(double)));
  const StepOps ops{
      [&](Dot d) {
        const double* u = d == Dot::bb ? b.get() : d == Dot::pq ? p.get() : r.get();
        const double* v = d == Dot::bb ? b.get() : d == Dot::rr ? r.get() : d == Dot::rz ? z.get() : q.get();
        return mg.dots(u, v);
      },
      [&](const std::vector<char>& active) {
        std::vector<double> keep(K);
        for (int c = 0; c < K; ++c) keep[c] = active[c] ? 1.0 : 0.0;
        scale_kernel<K><<<blocks, kThreads>>>(x.get(), coefs<K>(keep), len);
        check_launch();
      },
      [&]() {
        residual_kernel<M, K><<<grid_size(n), kThreads>>>(g, b.get(), x.get(), r.get());
        check_launch();
      },
      [&]() { mg.cycle(r.get(), z.get()); },
      [&]() { mg.apply(p.get(), q.get()); },
      [&](const std::vector<double>& on) {
        add_kernel<K><<<blocks, kThreads>>>(x.get(), z.get(), coefs<K>(on), len);
        check_launch();
      },
      [&](const std::vector<double>& beta) {
        update_p_kernel<K><<<blocks, kThreads>>>(p.get(), z.get(), coefs<K>(beta), len);
        check_launch();
      },
      [&](const std::vector<double>& alpha) {
        update_xr_kernel<K><<<blocks, kThreads>>>(x.get(), r.get(), p.get(), q.get(), coefs<K>(alpha), len);
        check_launch();
      }};
  const int steps = multigrid_steps<K>(ops, rtol, maxiter, krylov, history);
  x.download(x_host);
  return steps;
}

}  // namespace

int multigrid(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
              const double* block, const int64_t* indptr, const int32_t* indices,
              const double* values, const double* b, double* x, double rtol, int maxiter,
              bool krylov, double* history) {
  const std::vector<GridLevel> levels = multigrid_levels(h, w, m, k, wx, wy, block, indptr, indices, values);
  return dispatch(m, k, [&](auto s) {
    return solve<decltype(s)::m, decltype(s)::k>(levels, b, x, rtol, maxiter, krylov, history);
  });
}

void grid_apply(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                const double* diag, const double* block, const double* x, double* out) {
  const Grid g{h, w, wx, wy, diag, block};
  dispatch(m, k, [&](auto s) {
    apply_kernel<decltype(s)::m, decltype(s)::k><<<grid_size(h * w), kThreads>>>(g, x, out);
    check_launch();
    return 0;
  });
}

void grid_relax(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                const double* diag, const double* block, const double* f, double* x, int color) {
  const Grid g{h, w, wx, wy, diag, block};
  dispatch(m, k, [&](auto s) {
    relax_kernel<decltype(s)::m, decltype(s)::k><<<grid_size(h * w), kThreads>>>(g, f, x, x, color);
    check_launch();
    return 0;
  });
}

void grid_coarsen(int64_t h, int64_t w, int m, int k, const double* wx, const double* wy,
                  const double* extra, const double* block, double* cwx, double* cwy,
                  double* cextra, double* cblock) {
  const Grid g{h, w, wx, wy, nullptr, block};
  const int64_t hc = coarse_size(h), wc = coarse_size(w);
  dispatch(m, k, [&](auto s) {
    coarsen_kernel<decltype(s)::m, decltype(s)::k><<<grid_size(hc * wc), kThreads>>>(
        g, extra, hc, wc, cwx, cwy, cextra, cblock);
    check_launch();
    return 0;
  });
}

void grid_restrict(int64_t h, int64_t w, int width, const double* wx, const double* wy,
                   const double* r, double* out) {
  const Grid g{h, w, wx, wy, nullptr, nullptr};
  const int64_t wc = coarse_size(w), nc = coarse_size(h) * wc;
  dispatch(1, width, [&](auto s) {
    restrict_kernel<decltype(s)::k><<<grid_size(nc), kThreads>>>(g, r, wc, nc, out);
    check_launch();
    return 0;
  });
}

void grid_prolong(int64_t h, int64_t w, int width, const double* wx, const double* wy,
                  const double* e, double* x) {
  const Grid g{h, w, wx, wy, nullptr, nullptr};
  dispatch(1, width, [&](auto s) {
    prolong_kernel<decltype(s)::k><<<grid_size(h * w), kThreads>>>(g, e, coarse_size(w), x);
    check_launch();
    return 0;
  });
}

}  // namespace transfer::solve::cuda
