#include "descramble/moments.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "layout_copy.hpp"
#include "packed_syrk.hpp"
#include "row_checks.hpp"
#include "syrk_memory.hpp"
#include "thread_policy.hpp"

namespace descramble {

namespace detail {

// Rows per panel: the centred float64 block that one pass of the blocked
// rank-k update consumes (one spare sample slot holds the Chan merge term).
// Narrow states: a group of 8 variables over 256 samples (16 KiB) stays in L1
// and a thread's whole panel in L2. Wide states: every pass reads and writes
// the n x n result from memory, so deeper panels cut that traffic in
// proportion (docs/tuning.md names the bench/ cases that chose the depths).
constexpr Index kPanelRows = 256;
constexpr Index kWidePanelRows = 512;
constexpr Index kDeepPanelRows = 1024;
// From this width on, two 512-row panels no longer fit in the last-level
// cache of common desktop and server parts: deep panels are used.
constexpr Index kDeepPanelFrom = 2048;
// Batches with fewer rows than this are gathered in a buffer first.
constexpr Index kBufferRows = 256;

// Read-only (rows x n) view through element strides.
template <class T>
struct StridedBlock {
  const T* data;
  Index rows;
  Index cols;
  Index rs;
  Index cs;
  double operator()(Index i, Index j) const { return static_cast<double>(data[i * rs + j * cs]); }
  // Row-major traversal is the cache-friendly one when columns are closer
  // together in memory than rows.
  bool row_major() const { return std::abs(cs) <= std::abs(rs); }
};

// Throws std::domain_error for the first row of rows [r0, r1) holding a
// non-finite or oversized entry; returns when all are acceptable. Column-major
// blocks are searched column by column, in memory order, for the first bad
// row, which is then read again for the kind of its first bad entry.
template <class T>
void check_rows(const StridedBlock<T>& x, Index r0, Index r1, Index report_offset) {
  const auto bad = [](double v) { return !(std::abs(v) < kMaxAbs); };
  Index first = r1;
  if (x.row_major()) {
    for (Index i = r0; i < r1 && first == r1; ++i) {
      for (Index j = 0; j < x.cols; ++j) first = bad(x(i, j)) ? i : first;
    }
  } else {
    for (Index j = 0; j < x.cols; ++j) {
      for (Index i = r0; i < first; ++i) first = bad(x(i, j)) ? i : first;
    }
  }
  if (first == r1) return;
  for (Index j = 0; j < x.cols; ++j) {
    const double v = x(first, j);
    if (bad(v)) throw std::domain_error(bad_row_message(first + report_offset, !std::isfinite(v)));
  }
}

// Column sums of (x - shift) and column maxima of |x|: one parallel,
// memory-bound pass that both validates the batch and gives its mean.
template <class T>
void shifted_column_sums(const StridedBlock<T>& x, const VectorXd& shift, VectorXd& sum,
                         VectorXd& maxabs) {
  const Index n = x.cols;
  sum.setZero(n);
  maxabs.setZero(n);
  const int threads = x.rows * n < kStreamPassParallelEntries ? 1 : max_threads();
  if (x.row_major()) {
    const int nt =
        static_cast<int>(std::min<Index>(threads, std::max<Index>(1, x.rows / kMinRowsPerThread)));
    std::vector<VectorXd> part_sum(nt, VectorXd::Zero(n));
    std::vector<VectorXd> part_max(nt, VectorXd::Zero(n));
#pragma omp parallel num_threads(nt)
    for (int t = thread_id(); t < nt; t += team_size()) {
      const Index r0 = x.rows * t / nt;
      const Index r1 = x.rows * (t + 1) / nt;
      double* s = part_sum[t].data();
      double* m = part_max[t].data();
      const double* k = shift.data();
      const auto accumulate = [&](const T* row, Index step) {
        for (Index j = 0; j < n; ++j) {
          const double v = static_cast<double>(row[j * step]);
          s[j] += v - k[j];
          const double a = std::abs(v);
          m[j] = m[j] < a ? a : m[j];
        }
      };
      for (Index i = r0; i < r1; ++i) {
        // A literal unit step lets the compiler vectorise the common C-order case.
        if (x.cs == 1) {
          accumulate(x.data + i * x.rs, 1);
        } else {
          accumulate(x.data + i * x.rs, x.cs);
        }
      }
    }
    for (int t = 0; t < nt; ++t) {
      sum += part_sum[t];
      maxabs = maxabs.cwiseMax(part_max[t]);
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (Index j = 0; j < n; ++j) {
      const T* col = x.data + j * x.cs;
      double s = 0.0, m = 0.0;
      for (Index i = 0; i < x.rows; ++i) {
        const double v = static_cast<double>(col[i * x.rs]);
        s += v - shift[j];
        const double a = std::abs(v);
        m = m < a ? a : m;
      }
      sum[j] = s;
      maxabs[j] = m;
    }
  }
}

// Lanes of `ok` stay set while every value stored is finite and below kMaxAbs.
inline void check_values(const Packet& v, Packet& ok) {
  using namespace Eigen::internal;
  ok = pand(ok, pcmp_lt(pabs(v), pset1<Packet>(kMaxAbs)));
}

// The scalar check_values, for the edges of a panel.
inline double centred_checked(double v, double shift, double mean, bool& ok) {
  const double c = (v - shift) - mean;
  ok = ok && std::abs(c) < kMaxAbs;
  return c;
}

// out[0:8] = (src[0:8] - shift[0:8]) - mean[0:8] for a full group of
// contiguous values, in vectors of the level (the compiler keeps the plain
// loop scalar: it cannot rule out aliasing). Same operations in the same
// order as the scalar edge path, so the same results.
template <class T>
inline void centre_group(const T* src, const double* shift, const double* mean, double* out,
                         Packet& ok) {
  using namespace Eigen::internal;
  double wide[kLanes];
  if constexpr (std::is_same_v<T, float>) {
    // A fixed-length conversion into a local array: vectorised (cvtps2pd).
    for (Index l = 0; l < kLanes; ++l) wide[l] = static_cast<double>(src[l]);
  }
  const double* from = std::is_same_v<T, float> ? wide : reinterpret_cast<const double*>(src);
#pragma GCC unroll 8
  for (Index v = 0; v < kLanes; v += kVector) {
    const Packet c =
        psub(psub(ploadu<Packet>(from + v), ploadu<Packet>(shift + v)), ploadu<Packet>(mean + v));
    check_values(c, ok);
    pstoreu(out + v, c);
  }
}

// Writes rows [r0, r0 + kr) of x, centred as (x - shift) - mean, into the
// packed panel (packed_syrk.hpp) for the variable groups [g0, g1); lanes past
// n are zero. Returns whether every centred value is finite and below
// kMaxAbs: the check rides along the pass that reads the data anyway.
template <class T>
bool pack_centred(const StridedBlock<T>& x, Index r0, Index kr, Index g0, Index g1,
                  const VectorXd& shift, const VectorXd& mean, double* panel, Index ldk) {
  using namespace Eigen::internal;
  const Index n = x.cols;
  const double* k = shift.data();
  const double* m = mean.data();
  Packet ok = ptrue(Packet());
  bool edges_ok = true;
  if (x.row_major()) {
    for (Index i = 0; i < kr; ++i) {
      const T* row = x.data + (r0 + i) * x.rs;
      for (Index g = g0; g < g1; ++g) {
        double* out = panel + (g * ldk + i) * kLanes;
        const Index j0 = g * kLanes;
        if (j0 + kLanes <= n && x.cs == 1) {
          centre_group(row + j0, k + j0, m + j0, out, ok);
        } else {
          for (Index l = 0; l < kLanes; ++l) {
            const Index j = j0 + l;
            out[l] = j < n
                         ? centred_checked(static_cast<double>(row[j * x.cs]), k[j], m[j], edges_ok)
                         : 0.0;
          }
        }
      }
    }
  } else {
    // Column-major source: eight contiguous read streams, one write stream.
    // Blocks of kVector samples x kVector variables are transposed in
    // registers; a group's last samples and a partial last group (or a
    // non-unit sample stride) go element by element.
    for (Index g = g0; g < g1; ++g) {
      const Index j0 = g * kLanes;
      const Index lanes = std::min(kLanes, n - j0);
      const T* base = x.data + r0 * x.rs + j0 * x.cs;
      double* out = panel + g * ldk * kLanes;
      Index i = 0;
      if (lanes == kLanes && x.rs == 1) {
        for (; i + kVector <= kr; i += kVector) {
#pragma GCC unroll 8
          for (Index l = 0; l < kLanes; l += kVector) {
            const PacketSquare block = load_transposed(base + i + l * x.cs, x.cs);
            const Packet s = ploadu<Packet>(k + j0 + l), mu = ploadu<Packet>(m + j0 + l);
            for (Index c = 0; c < kVector; ++c) {
              const Packet v = psub(psub(block.packet[c], s), mu);
              check_values(v, ok);
              pstoreu(out + (i + c) * kLanes + l, v);
            }
          }
        }
      }
      for (; i < kr; ++i) {
        for (Index l = 0; l < kLanes; ++l) {
          out[i * kLanes + l] =
              l < lanes ? centred_checked(static_cast<double>(base[i * x.rs + l * x.cs]), k[j0 + l],
                                          m[j0 + l], edges_ok)
                        : 0.0;
        }
      }
    }
  }
  return edges_ok && !predux_any(pandnot(ptrue(ok), ok));
}

// Writes `extra` as sample `at` of the packed panel, groups [g0, g1).
inline void pack_extra(const VectorXd& extra, Index at, Index g0, Index g1, double* panel,
                       Index ldk) {
  const Index n = extra.size();
  for (Index g = g0; g < g1; ++g) {
    for (Index l = 0; l < kLanes; ++l) {
      const Index j = g * kLanes + l;
      panel[(g * ldk + at) * kLanes + l] = j < n ? extra[j] : 0.0;
    }
  }
}

// At least `count` panel buffers of `size` doubles (syrk_memory.hpp). Each
// buffer is allocated by its own thread, in parallel.
inline void reserve_panels(PanelBuffers& panels, int count, Index size) {
  std::vector<HugePageArray>& buffers = panels.buffers;
  if (buffers.size() < static_cast<size_t>(count)) buffers.resize(static_cast<size_t>(count));
  const int threads = size < kStreamPassParallelEntries ? 1 : max_threads();
  bool out_of_memory = false;
#pragma omp parallel for schedule(static, 1) num_threads(std::min(threads, count))
  for (int t = 0; t < count; ++t) {
    // An exception must not leave an OpenMP region: it is rethrown after it.
    try {
      if (buffers[t].size() < size) buffers[t] = HugePageArray(size);
    } catch (const std::bad_alloc&) {
#pragma omp atomic write
      out_of_memory = true;
    }
  }
  if (out_of_memory) throw std::bad_alloc();
}

// Samples in panel `p` of a batch cut into panels of `depth` rows: its rows,
// plus the Chan term after the first panel's rows.
inline Index panel_samples(Index rows, Index depth, Index p, bool has_extra) {
  return std::min(depth, rows - p * depth) + (has_extra && p == 0 ? 1 : 0);
}

// Centres panel `p` (of `depth` rows) of the batch into `panel` for the
// variable groups [g0, g1); returns pack_centred's check.
template <class T>
bool pack_panel(const StridedBlock<T>& x, Index depth, Index p, Index g0, Index g1,
                const VectorXd& shift, const VectorXd& mean, const VectorXd& extra, double* panel,
                Index ldk) {
  const Index r0 = p * depth;
  const Index kr = std::min(depth, x.rows - r0);
  const bool ok = pack_centred(x, r0, kr, g0, g1, shift, mean, panel, ldk);
  if (extra.size() > 0 && p == 0) pack_extra(extra, kr, g0, g1, panel, ldk);
  return ok;
}

// One unit of a panel step of the wide update: centre a chunk of variable
// groups of the next panel, or update a tile from the current one.
struct PanelWork {
  bool centre;
  Index index;  // the chunk of groups, or the tile
};

// Tiles in the order packed_lower_tiles gives (costly ones first), with the
// centring chunks spread over the first half: the memory-bound centring of
// one thread then overlaps the arithmetic of the other, and the step ends on
// small tiles that balance the threads.
inline std::vector<PanelWork> panel_work_order(Index tiles, Index chunks) {
  std::vector<PanelWork> order;
  const Index stride = std::max<Index>(1, tiles / (2 * chunks));
  Index chunk = 0;
  for (Index t = 0; t < tiles; ++t) {
    if (t % stride == 0 && chunk < chunks) order.push_back({true, chunk++});
    order.push_back({false, t});
  }
  for (; chunk < chunks; ++chunk) order.push_back({true, chunk});
  return order;
}

// m2 (lower) += sum over rows of c c^T with c = (x - shift) - mean, plus
// extra extra^T when `extra` is non-empty (`overwrite`: m2 (lower) = that
// sum, m2 not read before): the blocked symmetric rank-k
// update. Wide states: a shared, double-buffered panel. Step p updates the
// tiles of the lower triangle from panel p - 1 and centres panel p into the
// other buffer, all threads taking work units as they come free (one barrier
// per step): the O(N n) centring is done once, not once per thread, and a
// thread slowed by other processes holds up at most one unit per step.
// Narrow states: threads take row ranges into private accumulators, summed at
// the end. Returns whether every centred value was finite and below kMaxAbs
// (pack_centred), so that a caller that has not validated x finds out.
template <class T>
bool centred_rank_update(const StridedBlock<T>& x, const VectorXd& shift, const VectorXd& mean,
                         const VectorXd& extra, RowMatrixXd& m2, PanelBuffers& buffers,
                         bool overwrite) {
  const Index n = x.cols;
  const Index groups = (n + kLanes - 1) / kLanes;
  const bool has_extra = extra.size() > 0;
  const std::vector<PackedTile> tiles = packed_lower_tiles(n);
  const double flops = static_cast<double>(x.rows) * n * n;
  const int threads = flops < static_cast<double>(kRankUpdateParallelFlops) ? 1 : max_threads();
  if (n >= kRankUpdateSharedPanelMin || threads == 1) {
    const Index chunk_groups = tile_groups(n);
    const Index chunks = (groups + chunk_groups - 1) / chunk_groups;
    const std::vector<PanelWork> order = panel_work_order(static_cast<Index>(tiles.size()), chunks);
    const Index units = static_cast<Index>(order.size());
    const bool deep = n >= kDeepPanelFrom;
    const Index depth = deep ? kDeepPanelRows : kWidePanelRows;
    // Panels no deeper than the batch, and one buffer when a single panel
    // holds it: small one-shot batches then clear and fault in a fraction
    // of the scratch (320 x 80: 0.2 instead of 0.66 MB).
    const Index ldk = std::min(depth, x.rows) + 1;
    const Index panels = (x.rows + depth - 1) / depth;
    const int nt = static_cast<int>(std::min<Index>(threads, units));
    const int buffer_count = panels > 1 ? 2 : 1;
    reserve_panels(buffers, buffer_count, groups * ldk * kLanes);
    double* const panel[2] = {buffers.buffers[0].data(), buffers.buffers[buffer_count - 1].data()};
    // The calling thread centres the first panel while the others wake up:
    // a step that only centred would end on a barrier where the first thread
    // waits for a late one, long enough to be put to sleep and woken late.
    bool ok = pack_panel(x, depth, 0, 0, groups, shift, mean, extra, panel[0], ldk);
#pragma omp parallel num_threads(nt)
    for (Index p = 1; p <= panels; ++p) {
      // The implicit barrier at the end of each step: panel p is complete
      // before any tile reads it, and every tile is done with panel p - 1
      // before step p + 1 centres panel p + 1 into its buffer.
#pragma omp for schedule(dynamic, 1)
      for (Index u = 0; u < units; ++u) {
        const PanelWork& w = order[u];
        if (w.centre) {
          if (p == panels) continue;
          const Index g0 = w.index * chunk_groups;
          const Index g1 = std::min(groups, g0 + chunk_groups);
          if (!pack_panel(x, depth, p, g0, g1, shift, mean, extra, panel[p % 2], ldk)) {
#pragma omp atomic write
            ok = false;
          }
        } else {
          packed_tile_update(panel[(p - 1) % 2], ldk,
                             panel_samples(x.rows, depth, p - 1, has_extra), n, m2.data(), n,
                             tiles[w.index], overwrite && p == 1);
        }
      }
    }
    return ok;
  }
  const int nt =
      static_cast<int>(std::max<Index>(1, std::min<Index>(threads, x.rows / kMinRowsPerThread)));
  // A thread's rows number at most ceil(rows / nt); its panels need no more.
  const Index ldk = std::min(kPanelRows, (x.rows + nt - 1) / nt) + 1;
  // Each thread's first panel writes its accumulator (the state itself when
  // fresh), so none is cleared first.
  std::vector<RowMatrixXd> partial(nt - 1, RowMatrixXd(n, n));
  reserve_panels(buffers, nt, groups * ldk * kLanes);
  bool ok = true;
#pragma omp parallel num_threads(nt)
  for (int t = thread_id(); t < nt; t += team_size()) {
    const Index a = x.rows * t / nt, b = x.rows * (t + 1) / nt;
    RowMatrixXd& acc = t == 0 ? m2 : partial[t - 1];
    double* panel = buffers.buffers[t].data();
    for (Index r0 = a; r0 < b; r0 += kPanelRows) {
      const Index kr = std::min(kPanelRows, b - r0);
      const bool add_extra = has_extra && t == 0 && r0 == a;
      const bool write = r0 == a && (t > 0 || overwrite);
      if (!pack_centred(x, r0, kr, 0, groups, shift, mean, panel, ldk)) {
#pragma omp atomic write
        ok = false;
      }
      if (add_extra) pack_extra(extra, kr, 0, groups, panel, ldk);
      const Index k = kr + (add_extra ? 1 : 0);
      for (const PackedTile& tile : tiles) {
        packed_tile_update(panel, ldk, k, n, acc.data(), n, tile, write);
      }
    }
  }
  for (const RowMatrixXd& part : partial) {
    for (Index i = 0; i < n; ++i) m2.row(i).head(i + 1) += part.row(i).head(i + 1);
  }
  return ok;
}

}  // namespace detail

using detail::StridedBlock;

Moments::Moments(Index n) : n_(n) {
  if (n < 1) {
    throw std::invalid_argument("Moments: the number of variables n must be >= 1, got " +
                                std::to_string(n));
  }
  // The n x n matrix is allocated first, so that for an n too large for
  // memory the allocation fails (std::bad_alloc) before any length-n vector
  // is zero-filled and its pages touched.
  // Not cleared: m2_ is read only once count_ > 0, and the first batch
  // writes it instead of adding to it, which spares a pass over n x n memory
  // and the first batch's reading of the zeros back.
  m2_.resize(n, n);
  detail::advise_huge_pages(m2_.data(), static_cast<std::size_t>(m2_.size()) * sizeof(double));
  shift_.setZero(n);
  dmean_.setZero(n);
}

Moments::Moments(std::int64_t count, const Eigen::Ref<const VectorXd>& mean,
                 const Eigen::Ref<const RowMatrixXd>& scatter)
    : Moments(mean.size()) {
  const Index n = n_;
  if (scatter.rows() != n || scatter.cols() != n) {
    throw std::invalid_argument("Moments state: expected a (" + std::to_string(n) + ", " +
                                std::to_string(n) + ") scatter for a mean of length " +
                                std::to_string(n) + ", got (" + std::to_string(scatter.rows()) +
                                ", " + std::to_string(scatter.cols()) + ")");
  }
  if (count < 0) {
    throw std::invalid_argument("Moments state: count must be >= 0, got " + std::to_string(count));
  }
  if (!mean.allFinite())
    throw std::domain_error("Moments state: the mean contains NaN or infinity");
  for (Index i = 0; i < n; ++i) {
    if (!scatter.row(i).head(i + 1).allFinite()) {
      throw std::domain_error("Moments state: the scatter contains NaN or infinity");
    }
    if (scatter(i, i) < 0) {
      throw std::domain_error("Moments state: the scatter has a negative diagonal entry at [" +
                              std::to_string(i) + ", " + std::to_string(i) + "]");
    }
  }
  if (count == 0 && (!mean.isZero(0) || !scatter.isZero(0))) {
    throw std::invalid_argument("Moments state: count is 0 but the mean or scatter is non-zero");
  }
  count_ = count;
  // The saved mean becomes the shift: later merges form differences against it.
  shift_ = mean;
  for (Index i = 0; i < n; ++i) m2_.row(i).head(i + 1) = scatter.row(i).head(i + 1);
}

void Moments::copy_state_locked(const Moments& other) {
  n_ = other.n_;
  count_ = other.count_;
  shift_ = other.shift_;
  dmean_ = other.dmean_;
  // An empty state's m2_ was never written (see the constructor).
  if (other.count_ > 0) {
    m2_ = other.m2_;
  } else {
    m2_.resize(other.n_, other.n_);
  }
  buffer_ = other.buffer_;
  buffered_ = other.buffered_;
}

Moments::Moments(const Moments& other) : n_(other.n_) {
  std::lock_guard<std::mutex> lock(other.mutex_);
  copy_state_locked(other);
}

Moments::~Moments() = default;

Moments& Moments::operator=(const Moments& other) {
  if (this == &other) return *this;
  std::scoped_lock lock(mutex_, other.mutex_);
  copy_state_locked(other);
  return *this;
}

template <class T>
void Moments::update(const T* data, Index rows, Index cols, Index row_stride, Index col_stride) {
  if (cols != n_) {
    throw std::invalid_argument("Moments.update: expected " + std::to_string(n_) +
                                " columns, got " + std::to_string(cols));
  }
  if (rows < 0) throw std::invalid_argument("Moments.update: negative row count");
  if (rows == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (rows < detail::kBufferRows) {
    buffer_locked(data, rows, row_stride, col_stride);
  } else {
    accumulate_locked(data, rows, row_stride, col_stride);
  }
}

template <class T>
void Moments::buffer_locked(const T* data, Index rows, Index rs, Index cs) {
  const StridedBlock<T> x{data, rows, n_, rs, cs};
  // Validate before anything changes, so that a rejected batch leaves no trace.
  detail::check_rows(x, 0, rows, 0);
  if (buffered_ + rows > detail::kBufferRows) flush_locked();
  if (buffer_.rows() == 0) buffer_.resize(detail::kBufferRows, n_);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < n_; ++j) buffer_(buffered_ + i, j) = x(i, j);
  }
  buffered_ += rows;
  if (buffered_ == detail::kBufferRows) flush_locked();
}

void Moments::flush_locked() {
  if (buffered_ == 0) return;
  const Index rows = buffered_;
  // Reset first: the rows were validated when buffered, so this cannot throw
  // for their content and must not fold them in twice.
  buffered_ = 0;
  accumulate_locked(buffer_.data(), rows, n_, 1);
}

template <class T>
void Moments::accumulate_locked(const T* data, Index rows, Index rs, Index cs) {
  const Index n = n_;
  const StridedBlock<T> x{data, rows, n, rs, cs};
  const bool first = count_ == 0;
  // The shift of a fresh state: the mean of its first few rows, so every
  // later difference is of the order of the spread, not of the offset.
  VectorXd shift = shift_;
  if (first) {
    const Index head = std::min<Index>(rows, 64);
    shift.setZero(n);
    for (Index i = 0; i < head; ++i) {
      for (Index j = 0; j < n; ++j) shift[j] += x(i, j);
    }
    shift /= static_cast<double>(head);
  }
  VectorXd sum, maxabs;
  detail::shifted_column_sums(x, shift, sum, maxabs);
  if (!sum.allFinite() || !(maxabs.maxCoeff() < detail::kMaxAbs)) {
    detail::check_rows(x, 0, rows, 0);
    throw std::domain_error("Moments.update: the batch's sums overflow float64");
  }
  const VectorXd batch_mean = sum / static_cast<double>(rows);
  const double na = static_cast<double>(count_);
  const double nb = static_cast<double>(rows);
  const double total = na + nb;
  VectorXd extra;  // sqrt(n_a n_b / n) d: the Chan merge term as one more row
  VectorXd d;
  if (!first) {
    d = batch_mean - dmean_;
    extra = std::sqrt(na * nb / total) * d;
  }
  if (!panels_) panels_ = std::make_unique<detail::PanelBuffers>();
  detail::centred_rank_update(x, shift, batch_mean, extra, m2_, *panels_, first);
  if (first) {
    shift_ = shift;
    dmean_ = batch_mean;
  } else {
    dmean_ += (nb / total) * d;
  }
  count_ += rows;
}

void Moments::merge(Moments& other) {
  if (&other == this) {
    Moments copy(other);
    merge(copy);
    return;
  }
  std::scoped_lock lock(mutex_, other.mutex_);
  if (other.n_ != n_) {
    throw std::invalid_argument("Moments.merge: cannot merge statistics of " +
                                std::to_string(other.n_) + " variables into " + std::to_string(n_));
  }
  flush_locked();
  other.flush_locked();
  if (other.count_ == 0) return;
  if (count_ == 0) {
    count_ = other.count_;
    shift_ = other.shift_;
    dmean_ = other.dmean_;
    m2_ = other.m2_;
    return;
  }
  const double na = static_cast<double>(count_);
  const double nb = static_cast<double>(other.count_);
  const double total = na + nb;
  // Both means in this state's shifted frame; the shifts are close when the
  // data are, so the difference keeps its digits.
  const VectorXd d = (other.shift_ - shift_) + (other.dmean_ - dmean_);
  const double w = na * nb / total;
  const Index n = n_;
  // Rows of the lower triangle grow in length: dynamic chunks balance them.
  const int threads = n * n < detail::kStreamPassParallelEntries ? 1 : detail::max_threads();
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads)
  for (Index i = 0; i < n; ++i) {
    m2_.row(i).head(i + 1) += other.m2_.row(i).head(i + 1) + (w * d[i]) * d.head(i + 1).transpose();
  }
  dmean_ += (nb / total) * d;
  count_ += other.count_;
}

std::int64_t Moments::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return count_ + buffered_;
}

VectorXd Moments::mean() {
  std::lock_guard<std::mutex> lock(mutex_);
  flush_locked();
  return shift_ + dmean_;
}

namespace detail {

// An n x n result on huge pages (syrk_memory.hpp), not yet touched.
inline RowMatrixXd huge_page_matrix(Index n) {
  RowMatrixXd out(n, n);
  advise_huge_pages(out.data(), static_cast<std::size_t>(out.size()) * sizeof(double));
  return out;
}

// The full symmetric matrix lower + mean_weight * m m^T from the lower
// triangle of `lower` (its upper triangle is not read).
RowMatrixXd symmetric_from_lower(const RowMatrixXd& lower, const VectorXd& m, double mean_weight) {
  using namespace Eigen::internal;
  const Index n = lower.rows();
  RowMatrixXd full = huge_page_matrix(n);
  const double* src = lower.data();
  const double* mp = m.data();
  double* dst = full.data();
  symmetrise_from_lower(dst, n, [&](Index i, Index j0, Index j1) {
    const double wi = mean_weight * mp[i];
    const Packet w = pset1<Packet>(wi);
    Index j = j0;
    for (; j + kVector <= j1; j += kVector) {
      pstoreu(dst + i * n + j, pmadd(w, ploadu<Packet>(mp + j), ploadu<Packet>(src + i * n + j)));
    }
    for (; j < j1; ++j) dst[i * n + j] = src[i * n + j] + wi * mp[j];
  });
  return full;
}

}  // namespace detail

RowMatrixXd Moments::full_locked(bool add_mean_term) {
  flush_locked();
  if (count_ == 0) return RowMatrixXd::Zero(n_, n_);  // m2_ not written yet
  // gram = scatter + count * mean mean^T: a sum of positive semidefinite terms.
  const double mean_weight = add_mean_term ? static_cast<double>(count_) : 0.0;
  return detail::symmetric_from_lower(m2_, shift_ + dmean_, mean_weight);
}

RowMatrixXd Moments::scatter() {
  std::lock_guard<std::mutex> lock(mutex_);
  return full_locked(false);
}

RowMatrixXd Moments::gram() {
  std::lock_guard<std::mutex> lock(mutex_);
  return full_locked(true);
}

RowMatrixXd syrk(const double* data, Index rows, Index cols, Index row_stride, Index col_stride) {
  if (rows < 0 || cols < 1) {
    throw std::invalid_argument("syrk: expected a (rows, n) block with n >= 1, got (" +
                                std::to_string(rows) + ", " + std::to_string(cols) + ")");
  }
  if (rows == 0) return RowMatrixXd::Zero(cols, cols);
  const StridedBlock<double> x{data, rows, cols, row_stride, col_stride};
  // The rank-k update of Moments with nothing subtracted: X^T X itself, its
  // lower triangle computed and then mirrored in place. The packing validates
  // the values as it reads them; only when it met a bad one is x searched for
  // the row to name.
  const VectorXd zero = VectorXd::Zero(cols);
  RowMatrixXd product = detail::huge_page_matrix(cols);
  detail::PanelBuffers panels;
  if (!detail::centred_rank_update(x, zero, zero, VectorXd(), product, panels, true)) {
    detail::check_rows(x, 0, rows, 0);
    throw std::domain_error("syrk: the input contains NaN, infinity or a value beyond 1e100");
  }
  detail::symmetrise_from_lower(product.data(), cols, [](Index, Index, Index) {});
  return product;
}

template void Moments::update<float>(const float*, Index, Index, Index, Index);
template void Moments::update<double>(const double*, Index, Index, Index, Index);

}  // namespace descramble
