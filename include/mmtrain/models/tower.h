// The seams between towers and fusion: a vision tower maps images to Encoded, a text tower maps
// token ids to Encoded. Towers are chosen by name through models/registry.h.
#pragma once

#include <torch/nn/module.h>

#include "mmtrain/models/depth_groups.h"
#include "mmtrain/models/encoded.h"

namespace mmtrain {

class VisionTowerImpl : public torch::nn::Module {
 public:
  // images [B,3,H,W] normalised -> tokens [B,T,D], pooled [B,D]
  virtual Encoded forward(const torch::Tensor& images) = 0;
  // forward(images).pooled alone, which a tower may reach with less work (its last block for
  // the pooled token only) when nothing needs the other tokens.
  virtual torch::Tensor forward_pooled(const torch::Tensor& images) { return forward(images).pooled; }
  virtual int width() const = 0;  // D
  // The parameters bottom to top in open_clip's lock groups (models/depth_groups.h); empty for a
  // tower that open_clip does not unlock in part.
  virtual std::vector<DepthGroup> depth_groups() { return {}; }
};

class TextTowerImpl : public torch::nn::Module {
 public:
  // tokens [B,L] int64 -> tokens [B,L,D], pooled [B,D], pad_mask [B,L]
  virtual Encoded forward(const torch::Tensor& tokens) = 0;
  // forward(tokens).pooled alone, as for the vision tower.
  virtual torch::Tensor forward_pooled(const torch::Tensor& tokens) { return forward(tokens).pooled; }
  virtual int width() const = 0;  // D
  virtual std::vector<DepthGroup> depth_groups() { return {}; }  // as the vision tower's
};

}  // namespace mmtrain
