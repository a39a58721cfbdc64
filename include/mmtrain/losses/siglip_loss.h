// SigLIP's pairwise sigmoid loss (Zhai et al., 2023): every image-text pair in the batch is an
// independent binary decision, so no softmax couples a row to the rest of the batch. The `siglip`
// loss term learns the scale and bias.
#pragma once

#include <torch/types.h>

namespace mmtrain {

// Initial values for the learnable scale and bias, from the paper: t' = log 10 and b = -10. The
// strongly negative bias matters because B^2 - B of the B^2 pairs are negatives; starting there
// keeps the first steps from being spent only on pushing all logits down.
constexpr double kSiglipInitLogScale = 2.302585092994045684;  // log(10)
constexpr double kSiglipInitBias = -10.0;

// image_embeds [B,E], text_embeds [B,E] (normalised here, so raw projections are fine), log_scale
// [] and bias [] -> [] loss = -(1/B) * sum_ij log sigmoid(z_ij * (exp(log_scale) * x_i.y_j + bias)),
// z_ij = +1 on the diagonal and -1 elsewhere. Computed in at least float32.
torch::Tensor siglip_loss(const torch::Tensor& image_embeds, const torch::Tensor& text_embeds,
                          const torch::Tensor& log_scale, const torch::Tensor& bias);

// Registers the `siglip` term (losses/loss_term.h), with its learned scalars siglip_log_scale and
// siglip_bias (loss.siglip_log_scale, loss.siglip_bias in a checkpoint). The whole batch on one
// process for now.
void register_siglip_term();

}  // namespace mmtrain
