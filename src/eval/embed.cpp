#include "mmtrain/eval/embed.h"

#include "mmtrain/data/loader.h"

namespace mmtrain {

EmbedContext make_embed_context(const Config& config, MultimodalModel model,
                                std::shared_ptr<const Tokenizer> tokenizer, torch::Device device) {
  EmbedContext context;
  context.model = std::move(model);
  context.tokenizer = std::move(tokenizer);
  context.transform = transform_options(config.data, config.model.vision.image_size, false);
  context.context_length = config.model.text.context_length;
  context.workers = config.data.workers;
  context.batch_size = config.eval.batch_size;
  context.device = device;
  return context;
}

torch::Tensor embed_images(EmbedContext& context, std::shared_ptr<const PairDataset> images) {
  LoaderOptions options;
  options.batch_size = context.batch_size;
  options.workers = context.workers;
  options.shuffle = false;
  options.drop_last = false;
  options.transform = context.transform;
  options.transform.augment = false;
  Loader loader(std::move(images), nullptr, options);
  loader.start_epoch(0);
  torch::NoGradGuard no_grad;
  context.model->eval();
  std::vector<torch::Tensor> parts;
  while (auto batch = loader.next()) {
    parts.push_back(context.model->encode_images(batch->images.to(context.device)).to(torch::kCPU, torch::kFloat));
  }
  return parts.empty() ? torch::empty({0, 0}) : torch::cat(parts);
}

torch::Tensor embed_texts(EmbedContext& context, const std::vector<std::string>& texts) {
  torch::NoGradGuard no_grad;
  context.model->eval();
  std::vector<torch::Tensor> parts;
  const auto n = static_cast<int64_t>(texts.size());
  for (int64_t begin = 0; begin < n; begin += context.batch_size) {
    const int64_t count = std::min(context.batch_size, n - begin);
    auto tokens = torch::empty({count, context.context_length}, torch::kLong);
    for (int64_t i = 0; i < count; ++i) {
      tokenize_into(*context.tokenizer, texts[begin + i], context.context_length,
                    tokens.data_ptr<int64_t>() + i * context.context_length);
    }
    parts.push_back(context.model->encode_texts(tokens.to(context.device)).to(torch::kCPU, torch::kFloat));
  }
  return parts.empty() ? torch::empty({0, 0}) : torch::cat(parts);
}

}  // namespace mmtrain
