// Degraded evaluation images (eval.degraded): how much of a model's zero-shot and retrieval
// survives a blurred or half-hidden image, the mission's "one modality covers for another" asked of
// the image side. Applied to normalised images, where 0 is the data's mean colour.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace mmtrain {

enum class Degradation { kNone, kBlur, kOcclusion };

// The degradations eval.degraded adds, and the suffix of their metrics ("@blur", "@occluded").
std::vector<Degradation> evaluated_degradations();
std::string degradation_suffix(Degradation kind);

// images [B,3,H,W] normalised -> the same, degraded. kBlur: a Gaussian blur of sigma H/16 pixels
// (edges replicated). kOcclusion: the left, right, top or bottom half of each image becomes the
// mean colour, drawn from (seed, first_row + b) so that an image's half does not depend on the
// batch it is in.
at::Tensor degrade_images(const at::Tensor& images, Degradation kind, uint64_t seed, int64_t first_row);

}  // namespace mmtrain
