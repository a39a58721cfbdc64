#include "mmtrain/train/distributed.h"

#include <spdlog/spdlog.h>

#include "mmtrain/dist/gather.h"
#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

void check_config(const Config& config, int world_size) {
  if (world_size == 1) return;
  const int64_t parts = int64_t{world_size} * config.train.accum_steps;
  if (config.train.batch_size % parts != 0) {
    throw ConfigError("train.batch_size: " + std::to_string(config.train.batch_size) + " does not split into " +
                      std::to_string(world_size) + " ranks x " + std::to_string(config.train.accum_steps) +
                      " micro-batches (train.batch_size is global)");
  }
  if (config.train.accum_steps > 1) {
    throw ConfigError("train.accum_steps: gradient accumulation on several processes is not supported yet; use 1");
  }
  check_loss_runs_on_several_processes(config.loss);
}

}  // namespace

DataParallel::DataParallel(const Config& config) : env_(dist::dist_env_from_environment()) {
  check_config(config, env_.world_size);
  if (!is_distributed()) return;
  spdlog::info("rank {} of {} (local rank {}), joining {}:{}", env_.rank, env_.world_size, env_.local_rank,
               env_.master_addr, env_.master_port);
  group_ = std::make_unique<dist::ProcessGroup>(env_);
}

DataParallel::~DataParallel() = default;

void DataParallel::attach(MultimodalModelImpl& model) {
  if (!is_distributed()) return;
  torch::NoGradGuard no_grad;
  for (auto& parameter : model.parameters()) group_->broadcast_(parameter, 0);
  for (auto& buffer : model.buffers()) group_->broadcast_(buffer, 0);
  std::vector<torch::Tensor> trainable;
  for (auto& parameter : model.parameters()) {
    if (parameter.requires_grad()) trainable.push_back(parameter);
  }
  sync_ = std::make_unique<dist::GradientSync>(*group_, trainable);
}

GlobalEmbeddings DataParallel::gather(const ModelOutput& output) {
  const int64_t local = output.image_embeds.size(0);
  return {dist::all_gather_with_grad(*group_, output.image_embeds),
          dist::all_gather_with_grad(*group_, output.text_embeds), env_.rank * local};
}

double DataParallel::average_gradients() {
  if (!sync_) return 0.0;
  return sync_->average().allreduce_seconds;
}

double DataParallel::mean(double value) {
  if (!is_distributed()) return value;
  auto t = torch::tensor({value}, torch::kDouble);
  group_->allreduce_sum_(t);
  return t.item<double>() / env_.world_size;
}

bool DataParallel::any(bool flag) {
  if (!is_distributed()) return flag;
  auto t = torch::tensor({flag ? 1.0 : 0.0}, torch::kDouble);
  group_->allreduce_sum_(t);
  return t.item<double>() > 0;
}

void DataParallel::barrier() {
  if (is_distributed()) group_->barrier();
}

}  // namespace mmtrain
