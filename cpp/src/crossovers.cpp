#include "descramble/crossovers.hpp"

#include "eigh_internal.hpp"
#include "thread_policy.hpp"

namespace descramble {

std::vector<Crossover> crossovers() {
  using namespace detail;
  return {
      {"eigh_small", kEighSmall, "n <= value: Eigen's one-stage solver"},
      {"eigh_reduction_panel", kReductionPanel, "reflectors per panel of the blocked reduction"},
      {"eigh_reduction_unblocked", kReductionUnblocked,
       "trailing size <= value: the reduction continues column by column"},
      {"eigh_back_unblocked", kBackUnblocked,
       "n <= value: back-transformation one reflector at a time"},
      {"eigh_dc_leaf", kDcLeaf, "divide-and-conquer sub-problems <= value: solved by QL"},
      {"eigh_inverse_iteration_ratio", kInverseIterationRatio,
       "k largest pairs with value * k <= n: inverse iteration"},
      {"eigh_reduce_parallel_min", kEighReduceParallelMin, "n >= value: threaded reduction"},
      {"eigh_back_parallel_min", kEighBackParallelMin, "n >= value: threaded back-transformation"},
      {"eigh_dc_parallel_min", kEighDcParallelMin,
       "n >= value: threaded divide and conquer, the two top halves on a thread each"},
      {"eigh_dc_merge_copy_parallel_min", kDcMergeCopyParallelMin,
       "merge order >= value: threaded column reordering"},
      {"eigh_dc_secular_parallel_min", kDcSecularParallelMin,
       "undeflated roots >= value: threaded secular roots and Gu-Eisenstat z"},
      {"eigh_dc_product_parallel_entries", kDcProductParallelEntries,
       "merge product entries >= value: column ranges on separate threads"},
      {"eigh_layout_copy_parallel_entries", kLayoutCopyParallelEntries,
       "input entries >= value: threaded column-major copy of the input"},
      {"eigh_leading_product_stripe", kLeadingProductStripe,
       "rows per thread task of eigh_leading's product: n > value uses several threads"},
      {"stream_pass_parallel_entries", kStreamPassParallelEntries,
       "entries >= value: threaded validation, sums, centring, merge and mirror passes"},
      {"rank_update_parallel_flops", kRankUpdateParallelFlops,
       "rows * n * n >= value: threaded rank-k update of Moments and syrk"},
      {"rank_update_shared_panel_min", kRankUpdateSharedPanelMin,
       "n >= value: threads share each panel's tiles; below, they split the rows"},
      {"min_rows_per_thread", kMinRowsPerThread,
       "rows split between threads: at least value rows each"},
      {"batch_parallel_min", kBatchParallelMin,
       "problems >= value: eigh and assignment batches give each problem a thread"},
  };
}

}  // namespace descramble
