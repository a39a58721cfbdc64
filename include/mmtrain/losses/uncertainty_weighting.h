// Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla, 2018): each term's weight is learnt
// as exp(-s_k), and the + s_k keeps the optimiser from shrinking every weight to zero. At the
// optimum for s_k, exp(s_k) = L_k, so terms are balanced by their own magnitude.
#pragma once

#include <vector>

#include <torch/types.h>

namespace mmtrain {

// losses: K scalars L_k, log_vars [K] (s_k = log sigma_k^2) -> [] sum_k exp(-s_k) * L_k + s_k.
torch::Tensor uncertainty_weighted_sum(const std::vector<torch::Tensor>& losses, const torch::Tensor& log_vars);

}  // namespace mmtrain
