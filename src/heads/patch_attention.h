// Attention from a head over the vision tower's patch grid, shared by the heads that point (the
// action head's keypoints, the VQA head's words): the patches and their cells' centres, and the
// scores that a question's or an instruction's words give each patch.
#pragma once

#include <utility>

#include <torch/nn/modules/linear.h>

#include "mmtrain/models/encoded.h"

namespace mmtrain {

// The patch tokens of a vision tower's output and their grid cells' centres: [B,N,D] and [N,2]
// (x, y in [0,1]). A leading class token (ViT) is left out when the rest make a square. `what`
// names the head in the error for tokens that lie on no square grid.
std::pair<torch::Tensor, torch::Tensor> patch_grid(const torch::Tensor& tokens, const char* what);

// Each word's query (word_query of each text token, [B,T,D]) scores every patch by its key
// (keys [B,D,N]), scaled by `scale`; padding is left out and the words' scores add up [B,N]. A
// colour word and a kind word each light up their own half of "the red cup", whatever pairs
// training named together.
torch::Tensor word_sum_scores(torch::nn::Linear& word_query, const Encoded& text, const torch::Tensor& keys,
                              double scale);

}  // namespace mmtrain
