// All-gather with a gradient that flows back to the rank that produced each row: lets a
// contrastive loss on one rank use every rank's embeddings as negatives (open_clip's
// gather_with_grad).
#pragma once

#include <torch/types.h>

#include "mmtrain/dist/process_group.h"

namespace mmtrain::dist {

// local [b,...] -> [world_size*b,...], rank r's rows at r*b..(r+1)*b, with an autograd edge to
// local. Every rank passes the same shape.
//
// Backward sums the incoming gradient across ranks and returns this rank's rows of the sum: the
// gradient reaching local is that of the SUM of every rank's loss, sum_r' L_r', not of this
// rank's L_r alone. With open_clip's local loss (rank r's rows against all columns, mean over
// its b rows) the full-batch loss of one process is L = (1/W) sum_r' L_r', so the gradient on
// local is W times the matching rows of dL/dembeddings. Averaging parameter gradients over the
// W ranks (as DDP and GradientSync do) then gives exactly dL/dparameters of the single process,
// the logit scale included (each rank's L_r sees it directly; their mean is dL/dscale).
//
// The backward is itself a collective: every rank must run backward through its gathered tensor
// (an unused gather on one rank leaves the others waiting until operation_timeout). group must
// outlive the backward. Double backward is not supported. world_size 1 returns local itself.
torch::Tensor all_gather_with_grad(ProcessGroup& group, const torch::Tensor& local);

}  // namespace mmtrain::dist
