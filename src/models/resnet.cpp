#include "mmtrain/models/resnet.h"

#include <cmath>
#include <string>

#include "mmtrain/ops/attention.h"
#include "mmtrain/ops/linear.h"

namespace mmtrain {

namespace {

constexpr int kStages = 4;
constexpr int kTotalStride = 32;  // stem 4, then stages 1, 2, 2, 2

// CLIP's convs carry no bias: the BatchNorm that follows each one has its own.
torch::nn::Conv2d conv(int in, int out, int kernel, int stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(kernel / 2)
                               .bias(false));
}

torch::nn::BatchNorm2d batch_norm(int channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels));
}

torch::nn::AvgPool2d avg_pool(int stride) {
  return torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(stride));
}

void check_options(const ResNetOptions& o) {
  TORCH_CHECK(o.image_size() > 0 && o.image_size() % kTotalStride == 0, "resnet: image size ",
              o.image_size(), " must be a positive multiple of ", kTotalStride,
              " (the tower downsamples by ", kTotalStride, ")");
  TORCH_CHECK(o.width() > 0 && o.width() % 2 == 0, "resnet: width must be a positive even number "
              "(the stem's first two convs are width/2 wide), found ", o.width());
  TORCH_CHECK(o.stage_layers().size() == kStages, "resnet: expected ", kStages,
              " stage layer counts, found ", o.stage_layers().size());
  for (int layers : o.stage_layers()) {
    TORCH_CHECK(layers > 0, "resnet: stage layer counts must be positive, found ", layers);
  }
  const int embed_dim = o.width() * 8 * BottleneckImpl::kExpansion;
  TORCH_CHECK(o.heads() > 0 && embed_dim % o.heads() == 0, "resnet: ", o.heads(),
              " heads do not divide the ", embed_dim, " channels of the last stage");
}

}  // namespace

BottleneckImpl::BottleneckImpl(int in_channels, int planes, int stride) {
  const int out_channels = planes * kExpansion;
  conv1_ = register_module("conv1", conv(in_channels, planes, 1));
  bn1_ = register_module("bn1", batch_norm(planes));
  conv2_ = register_module("conv2", conv(planes, planes, 3));
  bn2_ = register_module("bn2", batch_norm(planes));
  if (stride > 1) avgpool_ = register_module("avgpool", avg_pool(stride));
  conv3_ = register_module("conv3", conv(planes, out_channels, 1));
  bn3_ = register_module("bn3", batch_norm(out_channels));
  if (stride > 1 || in_channels != out_channels) {
    // Named as CLIP's OrderedDict names them, so that downsample.0/1 load from its checkpoints.
    torch::nn::Sequential downsample;
    downsample->push_back("-1", stride > 1 ? torch::nn::AnyModule(avg_pool(stride))
                                           : torch::nn::AnyModule(torch::nn::Identity()));
    downsample->push_back("0", conv(in_channels, out_channels, 1));
    downsample->push_back("1", batch_norm(out_channels));
    downsample_ = register_module("downsample", downsample);
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  out = torch::relu(bn2_(conv2_(out)));
  if (avgpool_) out = avgpool_(out);
  out = bn3_(conv3_(out));
  const auto identity = downsample_ ? downsample_->forward(x) : x;
  return torch::relu(out + identity);
}

AttentionPool2dImpl::AttentionPool2dImpl(int spatial, int embed_dim, int heads, int output_dim)
    : heads_(heads) {
  positional_embedding_ = register_parameter(
      "positional_embedding",
      torch::randn({spatial * spatial + 1, embed_dim}) / std::sqrt(static_cast<double>(embed_dim)));
  q_proj_ = register_module("q_proj", torch::nn::Linear(embed_dim, embed_dim));
  k_proj_ = register_module("k_proj", torch::nn::Linear(embed_dim, embed_dim));
  v_proj_ = register_module("v_proj", torch::nn::Linear(embed_dim, embed_dim));
  c_proj_ = register_module("c_proj", torch::nn::Linear(embed_dim, output_dim));
}

std::pair<torch::Tensor, torch::Tensor> AttentionPool2dImpl::forward(const torch::Tensor& x) {
  const int64_t batch = x.size(0), channels = x.size(1);
  auto tokens = x.flatten(2).transpose(1, 2);                          // [B,HW,C]
  tokens = torch::cat({tokens.mean(1, /*keepdim=*/true), tokens}, 1);  // [B,1+HW,C]
  tokens = tokens + positional_embedding_.to(tokens.dtype());
  const auto pooled = attention_reference(linear(q_proj_, tokens.slice(1, 0, 1)), linear(k_proj_, tokens),
                                          linear(v_proj_, tokens), torch::Tensor(), heads_)
                          .reshape({batch, channels});  // the mean token's query over all positions
  auto per_position = linear(c_proj_, linear(v_proj_, tokens.slice(1, 1)));  // [B,HW,output_dim]
  return {linear(c_proj_, pooled), per_position};                   // [B,output_dim], [B,HW,output_dim]
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options_(options) {
  check_options(options);
  const int w = options.width();
  conv1_ = register_module("conv1", conv(3, w / 2, 3, 2));
  bn1_ = register_module("bn1", batch_norm(w / 2));
  conv2_ = register_module("conv2", conv(w / 2, w / 2, 3));
  bn2_ = register_module("bn2", batch_norm(w / 2));
  conv3_ = register_module("conv3", conv(w / 2, w, 3));
  bn3_ = register_module("bn3", batch_norm(w));
  avgpool_ = register_module("avgpool", avg_pool(2));
  int in_channels = w;
  for (int stage = 0; stage < kStages; ++stage) {
    const int planes = w << stage;
    torch::nn::Sequential blocks;
    for (int block = 0; block < options.stage_layers()[stage]; ++block) {
      const int stride = (stage > 0 && block == 0) ? 2 : 1;
      blocks->push_back(Bottleneck(in_channels, planes, stride));
      in_channels = planes * BottleneckImpl::kExpansion;
    }
    stages_.push_back(register_module("layer" + std::to_string(stage + 1), blocks));
  }
  attnpool_ = register_module(
      "attnpool", AttentionPool2d(options.image_size() / kTotalStride, in_channels, options.heads(),
                                  options.output_dim()));
}

torch::Tensor ResNetImpl::stem(const torch::Tensor& images) {
  auto x = torch::relu(bn1_(conv1_(images)));
  x = torch::relu(bn2_(conv2_(x)));
  x = torch::relu(bn3_(conv3_(x)));
  return avgpool_(x);
}

Encoded ResNetImpl::forward(const torch::Tensor& images) {
  TORCH_CHECK(images.size(2) == options_.image_size() && images.size(3) == options_.image_size(),
              "resnet: expected ", options_.image_size(), "x", options_.image_size(), " images, found ",
              images.size(2), "x", images.size(3));
  auto x = stem(images);
  for (auto& stage : stages_) x = stage->forward(x);  // [B,32w,H/32,W/32]
  auto [pooled, tokens] = attnpool_(x);
  return Encoded{tokens, pooled, {}};
}

}  // namespace mmtrain
