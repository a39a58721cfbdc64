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
  context.seed = static_cast<uint64_t>(config.run.seed);
  return context;
}

namespace {

torch::Tensor to_cpu_float(const torch::Tensor& t) {
  return t.defined() ? t.to(torch::kCPU, t.is_floating_point() ? torch::kFloat : t.scalar_type())
                     : t;
}

torch::Tensor cat_or_undefined(const std::vector<torch::Tensor>& parts) {
  if (parts.empty() || !parts.front().defined()) return {};
  return torch::cat(parts);
}

// Collects batch outputs: embeddings always, tower outputs when kept.
class SetCollector {
 public:
  explicit SetCollector(bool keep_encoded) : keep_encoded_(keep_encoded) {}

  void add(const Encoded& encoded, const torch::Tensor& embeds) {
    embeds_.push_back(to_cpu_float(embeds));
    if (!keep_encoded_) return;
    tokens_.push_back(to_cpu_float(encoded.tokens));
    pooled_.push_back(to_cpu_float(encoded.pooled));
    pad_mask_.push_back(to_cpu_float(encoded.pad_mask));
  }

  EncodedSet finish() const {
    EncodedSet set;
    set.embeds = embeds_.empty() ? torch::empty({0, 0}) : torch::cat(embeds_);
    set.encoded.tokens = cat_or_undefined(tokens_);
    set.encoded.pooled = cat_or_undefined(pooled_);
    set.encoded.pad_mask = cat_or_undefined(pad_mask_);
    return set;
  }

 private:
  bool keep_encoded_;
  std::vector<torch::Tensor> embeds_, tokens_, pooled_, pad_mask_;
};

torch::Tensor select_rows(const torch::Tensor& t, const torch::Tensor& index, torch::Device device) {
  return t.defined() ? t.index_select(0, index).to(device) : t;
}

}  // namespace

Encoded EncodedSet::rows(const torch::Tensor& index, torch::Device device) const {
  TORCH_CHECK(encoded.tokens.defined(), "EncodedSet::rows: the tower outputs were not kept");
  return {select_rows(encoded.tokens, index, device), select_rows(encoded.pooled, index, device),
          select_rows(encoded.pad_mask, index, device)};
}

LoaderOptions eval_loader_options(const EmbedContext& context) {
  LoaderOptions options;
  options.batch_size = context.batch_size;
  options.workers = context.workers;
  options.shuffle = false;
  options.drop_last = false;
  options.context_length = context.context_length;
  options.transform = context.transform;
  options.transform.augment = false;
  return options;
}

void for_each_image_batch(EmbedContext& context, std::shared_ptr<const PairDataset> images,
                          const std::function<void(const torch::Tensor&)>& consume) {
  Loader loader(std::move(images), nullptr, eval_loader_options(context));
  loader.start_epoch(0);
  torch::NoGradGuard no_grad;
  context.model->eval();
  int64_t first_row = 0;
  while (auto batch = loader.next()) {
    auto images = batch->images.to(context.device);
    if (context.degradation != Degradation::kNone) images = degrade_images(images, context.degradation, context.seed, first_row);
    first_row += images.size(0);
    consume(images);
  }
}

EncodedSet encode_image_set(EmbedContext& context, std::shared_ptr<const PairDataset> images,
                            bool keep_encoded) {
  SetCollector collector(keep_encoded);
  for_each_image_batch(context, std::move(images), [&](const torch::Tensor& batch) {
    auto encoded = context.model->encode_vision(batch, keep_encoded);
    collector.add(encoded, context.model->fusion().embed_image(encoded));
  });
  return collector.finish();
}

EncodedSet encode_text_set(EmbedContext& context, const std::vector<std::string>& texts,
                           bool keep_encoded) {
  torch::NoGradGuard no_grad;
  context.model->eval();
  SetCollector collector(keep_encoded);
  const auto n = static_cast<int64_t>(texts.size());
  for (int64_t begin = 0; begin < n; begin += context.batch_size) {
    const int64_t count = std::min(context.batch_size, n - begin);
    auto tokens = torch::empty({count, context.context_length}, torch::kLong);
    for (int64_t i = 0; i < count; ++i) {
      tokenize_into(*context.tokenizer, texts[begin + i], context.context_length,
                    tokens.data_ptr<int64_t>() + i * context.context_length);
    }
    auto encoded = context.model->encode_text(tokens.to(context.device), keep_encoded);
    collector.add(encoded, context.model->fusion().embed_text(encoded));
  }
  return collector.finish();
}

torch::Tensor embed_images(EmbedContext& context, std::shared_ptr<const PairDataset> images) {
  return encode_image_set(context, std::move(images), false).embeds;
}

torch::Tensor embed_texts(EmbedContext& context, const std::vector<std::string>& texts) {
  return encode_text_set(context, texts, false).embeds;
}

}  // namespace mmtrain
