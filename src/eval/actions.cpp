#include "mmtrain/eval/actions.h"

#include "mmtrain/data/loader.h"
#include "mmtrain/errors.h"
#include "mmtrain/heads/action_head.h"
#include "mmtrain/losses/action_loss.h"

namespace mmtrain {

namespace {

constexpr int64_t kContinuousBins = 256;  // what a continuous head's bin accuracy is counted over

struct Totals {
  double l1 = 0, hits = 0, values = 0;
  void add(double l1_sum, double hit_count, double count) {
    l1 += l1_sum;
    hits += hit_count;
    values += count;
  }
};

}  // namespace

Metrics evaluate_actions(EmbedContext& context, const ActionEvalConfig& config) {
  auto& head = action_head_of(*context.model, "eval.actions");
  if (!context.actions) throw ConfigError("eval.actions: the model has no action space (was it trained on episodes?)");
  const ActionSpace& space = *context.actions;
  auto steps = std::make_shared<const PairDataset>(read_pair_source(config, "eval.actions"));
  LoaderOptions options = eval_loader_options(context);
  options.task.actions = context.actions;
  options.task.action_chunk = static_cast<int>(head.chunk());
  Loader loader(steps, context.tokenizer, options);
  loader.start_epoch(0);
  torch::NoGradGuard no_grad;
  context.model->eval();
  const int64_t bins = head.bins() > 0 ? head.bins() : kContinuousBins;
  // The data's units: a scaled difference times half the dimension's range.
  const auto half_range = (torch::tensor(space.high()) - torch::tensor(space.low())) * 0.5;  // [A]
  std::map<std::string, Totals> totals;
  while (auto batch = loader.next()) {
    ModelOutput output = context.model->forward(batch->images.to(context.device), batch->tokens.to(context.device));
    output.task = batch->task.to(context.device);
    const auto predicted = head.predict(output).select(1, 0).to(torch::kCPU);  // [B,A] scaled
    const auto target = batch->task.actions.select(1, 0);                      // [B,A] scaled
    const auto l1_rows = ((predicted - target).abs() * half_range).sum(1).to(torch::kDouble);  // [B]
    const auto hit_rows = (action_bins(predicted, bins) == action_bins(target, bins)).sum(1).to(torch::kDouble);
    const auto l1 = l1_rows.accessor<double, 1>();
    const auto hits = hit_rows.accessor<double, 1>();
    const auto rows = batch->ids.accessor<int64_t, 1>();
    const double dims = static_cast<double>(space.dims());
    for (int64_t i = 0; i < predicted.size(0); ++i) {
      const std::string& task = steps->samples[static_cast<size_t>(rows[i])].question_type;
      totals[""].add(l1[i], hits[i], dims);
      if (!task.empty()) totals[task].add(l1[i], hits[i], dims);
    }
  }
  Metrics metrics;
  for (const auto& [task, total] : totals) {
    if (total.values == 0) continue;
    const std::string suffix = task.empty() ? "" : "/" + task;
    metrics["actions/l1" + suffix] = total.l1 / total.values;
    metrics["actions/bin_accuracy" + suffix] = total.hits / total.values;
  }
  return metrics;
}

}  // namespace mmtrain
