// train/mlp_tensor_objective.h — training one tensor-parallel slice of an MLP (model/mlp_tensor.h):
// the same rows on every rank of the tensor group, each rank folding the gradient of its own slice
// of the parameters; the slices' partial activations are added up over the group's communicator.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/dataset.h"
#include "parafit/loss.h"
#include "parafit/mlp.h"
#include "train/objective.h"

namespace parafit::detail {

// The objective of slice tensor.rank() of tensor.size() (TensorPlan). Its kernels are collective
// (RowKernel::collective): every rank of `tensor` must run the same passes over the same rows.
// `tensor` must outlive the objective. `loss` is in the response's units.
std::unique_ptr<TrainObjective> make_tensor_mlp_objective(const MlpModel& model, const Dataset& data, int threads,
                                                          Communicator& tensor, const Loss& loss = {});

// Replaces `partial` with the sum over the ranks of `tensor` of every rank's `partial`, added in
// rank (slice) order: the same bits on every rank of the group (an MPI all-reduce may add in
// another order on each rank). `gathered` is its buffer. A collective of `tensor`; the tensor and
// pipeline objectives hand it to TensorMlpCompute (model/mlp_tensor.h: SumOverSlices).
template <class T>
void sum_over_slices(Communicator& tensor, std::span<T> partial, std::vector<T>& gathered);

}  // namespace parafit::detail
