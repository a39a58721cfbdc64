#include "mmtrain/train/trainer.h"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <cmath>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include "mmtrain/config/config_diff.h"
#include "mmtrain/config/load_config.h"
#include "mmtrain/data/webdataset_loader.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/captioning.h"
#include "mmtrain/eval/rollout.h"
#include "mmtrain/eval/vqa.h"
#include "mmtrain/heads/caption_decoder.h"
#include "mmtrain/heads/task_head.h"
#include "mmtrain/io/read_file.h"
#include "mmtrain/io/write_file.h"
#include "mmtrain/losses/loss.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/models/transformer.h"
#include "mmtrain/ops/precision.h"
#include "mmtrain/reporting/metrics_log.h"
#include "mmtrain/reporting/progress.h"
#include "mmtrain/reporting/tensorboard.h"
#include "mmtrain/runtime/startup.h"
#include "mmtrain/text/build_tokenizer.h"
#include "mmtrain/train/checkpoint.h"
#include "mmtrain/train/distributed.h"
#include "mmtrain/train/init_from.h"
#include "mmtrain/train/lr_schedule.h"
#include "mmtrain/train/optimizer.h"
#include "mmtrain/train/run_dir.h"
#include "mmtrain/train/signals.h"
#include "mmtrain/train/step_clock.h"
#include "mmtrain/train/synthetic_batches.h"
#include "mmtrain/train/task_data.h"
#include "mmtrain/train/training_data.h"

namespace mmtrain {

namespace {

// A batch onto the training device. To a GPU through pinned memory with non_blocking, so that the
// copy overlaps the step instead of stalling the host.
torch::Tensor to_device(const torch::Tensor& host, torch::Device device) {
  if (!device.is_cuda() || host.device() == device) return host.to(device);
  return host.pin_memory().to(device, /*non_blocking=*/true);
}

int64_t count_parameters(torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& p : module.parameters()) count += p.numel();
  return count;
}

// Combinations the config accepts but this trainer cannot run: refused before the run folder is
// made, from the loss terms' descriptors.
void refuse_unavailable_features(const Config& config) {
  if (config.train.accum_steps > 1) check_loss_accumulates(config.loss);
}

// The mean loss between two progress lines.
struct IntervalLoss {
  double sum = 0.0;
  int64_t steps = 0;
  void add(double loss) {
    sum += loss;
    ++steps;
  }
  double mean() const { return sum / static_cast<double>(std::max<int64_t>(1, steps)); }
};

// train.log gets what the console gets, for as long as the run lasts.
class LogFileSink {
 public:
  void open(const std::string& path) {
    sink_ = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
    sink_->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogFileSink() {
    if (!sink_) return;
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }

 private:
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> sink_;
};

class Trainer {
 public:
  Trainer(const Config& config, const TrainOptions& options)
      : config_(config), options_(options), run_dir_(config.run.output_dir + "/" + config.run.name) {}

  TrainSummary run();

 private:
  std::optional<Checkpoint> open_run();
  std::optional<Checkpoint> newest_valid_checkpoint();
  void build(const std::optional<Checkpoint>& checkpoint);
  bool step(const Batch& batch);  // false when the step was skipped (non-finite)
  std::unique_ptr<BatchSource> make_synthetic_source() const {
    SyntheticBatchOptions options;
    options.batch_size = config_.train.batch_size / dp_->world_size();
    options.image_size = config_.model.vision.image_size;
    options.context_length = config_.model.text.context_length;
    options.vocab_size = tokenizer_->vocab_size();
    options.seed = static_cast<uint64_t>(config_.run.seed);
    options.device = device_;
    return std::make_unique<SyntheticBatches>(options);
  }
  bool skip_step(const char* what, double value);
  MissingInputs apply_modality_dropout(torch::Tensor& images, torch::Tensor& tokens);
  void apply_image_dropout(torch::Tensor& images);
  void log_progress(int64_t total_steps);
  void save_checkpoint_now();
  Metrics evaluate_now();
  void write_caption_samples(const std::vector<CaptionSample>& captions);
  void write_vqa_samples(const VqaEvalResult& vqa);
  CheckpointMeta meta() const;
  void write_record(const nlohmann::json& record);
  void write_bad_sample_counts();
  void write_event(const nlohmann::json& record);
  int collective_stop_signal();

  Config config_;
  TrainOptions options_;
  std::unique_ptr<RunLock> lock_;  // rank 0: the run folder's one writer
  RunDir run_dir_;
  LogFileSink log_file_;
  torch::Device device_ = torch::kCPU;
  std::unique_ptr<DataParallel> dp_;
  TrainingData data_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  TaskData task_;  // a vqa head's vocabulary, an action head's space; empty otherwise
  MultimodalModel model_{nullptr};
  std::unique_ptr<FusedAdamW> optimizer_;
  LossScaler scaler_{false};  // fp16 only
  std::unique_ptr<BatchSource> loader_;
  std::unique_ptr<MetricsLog> metrics_;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
  TrainState state_;
  int64_t total_steps_ = 0;
  int64_t skipped_nonfinite_ = 0;
  int64_t bad_samples_written_ = -1;
  int nonfinite_in_a_row_ = 0;
  torch::Tensor empty_caption_;  // [L] BOS EOS padding, for modality dropout
  int64_t last_checkpoint_step_ = -1;
  double last_lr_ = 0.0;
  double last_loss_ = 0.0;
  LossResult last_terms_;
  IntervalLoss interval_loss_;
  StepClock clock_;  // started with the trainer, so the ETA's pace includes building the model
};

std::optional<Checkpoint> Trainer::open_run() {
  if (!dp_->is_main()) {
    dp_->barrier();  // rank 0 has created (or refused) the run folder
    if (options_.resume.empty()) return std::nullopt;
    return options_.resume == "latest" ? newest_valid_checkpoint() : std::optional<Checkpoint>(Checkpoint::load(options_.resume));
  }
  // Locked before anything else looks at the folder: a live writer is named before the folder's
  // existence is held against a new run.
  const bool existed = run_dir_.exists();
  lock_ = std::make_unique<RunLock>(run_dir_.path());
  if (options_.resume.empty() && existed) {
    throw ConfigError(run_dir_.path() + ": run folder exists; pass --resume latest to continue it, "
                      "or choose another run.name");
  }
  run_dir_.create();
  log_file_.open(run_dir_.file("train.log"));
  dp_->barrier();
  if (options_.resume.empty()) return std::nullopt;
  if (options_.resume != "latest") {
    spdlog::info("resuming from {}", options_.resume);
    return Checkpoint::load(options_.resume);
  }
  return newest_valid_checkpoint();
}

// `latest` first, then older step files: a corrupt newest file (disk trouble, a copy cut short)
// costs the steps since the one before it, not the run.
std::optional<Checkpoint> Trainer::newest_valid_checkpoint() {
  std::vector<std::string> candidates;
  if (const auto latest = run_dir_.latest()) candidates.push_back(*latest);
  for (const auto& path : run_dir_.step_checkpoints_newest_first()) {
    if (candidates.empty() || path != candidates.front()) candidates.push_back(path);
  }
  for (const auto& path : candidates) {
    try {
      auto checkpoint = Checkpoint::load(path);
      spdlog::info("resuming from {}", path);
      return checkpoint;
    } catch (const std::exception& error) {
      spdlog::warn("{}; trying an older checkpoint", error.what());
    }
  }
  spdlog::info("--resume latest: {} has no valid checkpoint yet; starting fresh", run_dir_.checkpoints());
  return std::nullopt;
}

// A resumed run must continue the same run: changes to what feeds the numbers are refused, the
// rest (logging, evaluation, cadence, threads) accepted and logged.
void check_resumed_config(const Config& stored, const Config& now) {
  std::string refused;
  for (const auto& change : diff_configs(stored, now)) {
    const std::string line = change.key + ": " + change.before + " -> " + change.after;
    // Shards are split by loader worker, so for a stream the worker count is part of the data order.
    const bool stream_workers = change.key == "data.workers" && stored.data.train.type == "webdataset";
    if (breaks_continuity(change.key) || stream_workers) {
      refused += "\n  " + line;
    } else {
      spdlog::info("config change accepted on resume: {}", line);
    }
  }
  if (!refused.empty()) {
    throw ConfigError("--resume: these changes would not continue the same run (start a new run.name, or "
                      "fine-tune with model.init_from):" + refused);
  }
}

void Trainer::build(const std::optional<Checkpoint>& checkpoint) {
  const auto& data = config_.data.train;
  data_ = open_training_data(config_);
  resolve_action_dims(config_, data_);
  refuse_pointing_without_targets(config_, data_);
  auto init_tokenizer = adopt_init_architecture(config_);
  if (checkpoint) {
    check_resumed_config(parse_config(checkpoint->meta().config_yaml, "checkpoint config"), config_);
  }
  const bool trains_tokenizer = !checkpoint && !init_tokenizer;
  if (checkpoint) {
    tokenizer_ = tokenizer_from_bytes(checkpoint->meta().tokenizer_type, checkpoint->meta().tokenizer_bytes);
  } else if (init_tokenizer) {
    tokenizer_ = std::move(init_tokenizer);
  } else if (dp_->is_main()) {
    tokenizer_ = build_tokenizer(config_.tokenizer, tokenizer_training_captions(config_, data_),
                                 static_cast<uint64_t>(config_.run.seed));
  }
  if (dp_->is_main()) {
    write_file_atomically(run_dir_.file("tokenizer.model"), tokenizer_->model_bytes());
    write_file_atomically(run_dir_.file("config.yaml"), config_to_yaml(config_));
  }
  // A tokenizer trained from the captions is trained once, on rank 0; the other ranks read its file.
  if (trains_tokenizer && dp_->is_distributed()) {
    dp_->barrier();
    if (!dp_->is_main()) {
      tokenizer_ = tokenizer_from_bytes(config_.tokenizer.type,
                                        read_file_bytes(run_dir_.file("tokenizer.model"), "tokenizer"));
    }
  }

  task_ = build_task_data(config_, data_, checkpoint ? &checkpoint->meta() : nullptr);
  torch::manual_seed(static_cast<uint64_t>(config_.run.seed));
  model_ = build_model(config_.model, TextVocab{tokenizer_->vocab_size(), tokenizer_->eos_id(), tokenizer_->pad_id()});
  attach_loss_parameters(*model_, config_.loss);
  // After build_model: model.init_from may have replaced the configured fusion.
  check_loss_fits_model(config_.loss, *model_);
  if (!config_.eval.captioning.path.empty()) caption_decoder_of(*model_, "eval.captioning");
  if (config_.train.modality_dropout > 0 && !model_->fusion().has_match()) {
    model_->add_placeholders();
    spdlog::info("train.modality_dropout: a dropped image or caption becomes a learned placeholder (late fusion)");
  }
  if (!checkpoint) {
    load_init_weights(config_, *model_);
    fill_answer_types(config_, data_, task_, *model_);
  }
  apply_locks(config_.model.lock, *model_);
  model_->to(device_);
  optimizer_ = build_optimizer(*model_, config_.optim, layer_decay_scales(*model_, config_.optim.layer_decay));
  if (config_.train.grad_checkpointing) enable_grad_checkpointing(*model_);
  scaler_ = LossScaler(config_.train.precision == "fp16");
  spdlog::info("model: {} parameters (vision {}, text {}, fusion {}); tokenizer vocabulary {}",
               count_parameters(*model_), count_parameters(model_->vision()),
               count_parameters(model_->text()), count_parameters(model_->fusion()),
               tokenizer_->vocab_size());

  if (checkpoint) {
    checkpoint->restore_model(*model_);
    restore_optimizer(*checkpoint, *model_, *optimizer_);
    restore_rng(*checkpoint);
    restore_loss_scaler(*checkpoint, scaler_);
    state_ = checkpoint->meta().state;
    last_checkpoint_step_ = state_.step;
    if (dp_->is_main()) MetricsLog::truncate_after(run_dir_.file("metrics.jsonl"), state_.step);
  }
  dp_->attach(*model_);
  if (dp_->is_main()) {
    metrics_ = std::make_unique<MetricsLog>(run_dir_.file("metrics.jsonl"));
    if (config_.train.tensorboard) tensorboard_ = std::make_unique<TensorBoardWriter>(run_dir_.file("tensorboard"));
  }

  loader_ = options_.synthetic_batches
                ? make_synthetic_source()
                : make_training_source(config_, data_.dataset, tokenizer_, data_.bad_samples, dp_->rank(),
                                       dp_->world_size(), task_);
  if (data_.dataset && loader_->batches_per_epoch() == 0 && !options_.synthetic_batches) {
    throw DataError(data.path + ": " + std::to_string(data_.dataset->samples.size()) +
                    " pairs, fewer than one batch of train.batch_size " +
                    std::to_string(config_.train.batch_size));
  }
  if (config_.train.steps == 0 && loader_->batches_per_epoch() == 0) {
    throw ConfigError("train.steps: needed with data.train.type webdataset unless data.train.num_samples "
                      "gives the samples per epoch (at least one batch)");
  }
  total_steps_ = config_.train.steps > 0 ? config_.train.steps
                                         : config_.train.epochs * loader_->batches_per_epoch();
}

bool Trainer::step(const Batch& batch) {
  last_lr_ = learning_rate_at(state_.step, total_steps_, config_.optim);
  set_learning_rate(*optimizer_, last_lr_);
  clear_gradients(*optimizer_);
  auto images = to_device(batch.images, device_);
  auto tokens = to_device(batch.tokens, device_);
  const TaskTensors task = batch.task.to(device_);
  const MissingInputs missing = apply_modality_dropout(images, tokens);
  apply_image_dropout(images);
  EmbeddingGather gather;
  if (dp_->is_distributed()) gather = [this](const ModelOutput& output) { return dp_->gather(output); };
  const int micro_batches = config_.train.accum_steps;
  PhaseTimes phases;
  last_terms_ = micro_batches > 1
                    ? accumulate_gradients(*model_, config_.loss, images, tokens, micro_batches,
                                           config_.train.precision, &phases, scaler_.scale(), missing, task)
                    : forward_backward(*model_, config_.loss, images, tokens, config_.train.precision, &phases,
                                       gather, scaler_.scale(), missing, task);
  clock_.add(StepPhase::kForward, phases.forward);
  clock_.add(StepPhase::kBackward, phases.backward);
  // Each rank holds the loss of its rows; the one-process loss is their mean.
  last_loss_ = dp_->mean(last_terms_.total.item<double>());
  if (dp_->is_distributed()) {
    for (auto& term : last_terms_.terms) term.second = torch::tensor(dp_->mean(term.second.item<double>()));
  }
  if (!std::isfinite(last_loss_)) return skip_step("loss", last_loss_);
  clock_.add(StepPhase::kAllreduce, dp_->average_gradients());
  const double optimizer_start = clock_.now();
  // The total norm is computed either way: a non-finite one means a non-finite gradient (with
  // fp16, an overflow that also halves the loss scale).
  const double norm = optimizer_->gradient_norm() / scaler_.scale();
  scaler_.update(std::isfinite(norm));
  if (!std::isfinite(norm)) return skip_step("gradient norm", norm);
  // Clipping and fp16's unscaling ride on the step instead of taking passes of their own.
  optimizer_->step_scaled(clip_factor(norm, config_.optim.grad_clip) / scaler_.scale());
  model_->fusion().clamp_parameters();
  clock_.add(StepPhase::kOptimizer, clock_.now() - optimizer_start);
  nonfinite_in_a_row_ = 0;
  return true;
}

namespace {

// [B] bool, each row true with probability p, drawn from the global generator (checkpointed, so
// resume stays exact).
torch::Tensor draw_rows(int64_t batch, double p, torch::Device device) { return (torch::rand({batch}) < p).to(device); }

// The marked images of [B,3,H,W] become the mean image (zero after normalisation).
torch::Tensor blank_images(const torch::Tensor& images, const torch::Tensor& rows) {
  return images * rows.logical_not().view({-1, 1, 1, 1}).to(images.dtype());
}

}  // namespace

// A fraction of images become the mean image (zero after normalisation), their captions kept: what
// a caption decoder says of a blank image is then the captions' language prior, which contrastive
// decoding (eval.captioning.generate.contrast) subtracts.
void Trainer::apply_image_dropout(torch::Tensor& images) {
  if (config_.train.image_dropout > 0) {
    images = blank_images(images, draw_rows(images.size(0), config_.train.image_dropout, images.device()));
  }
}

// Fused models see the empty caption and the mean image; late fusion's towers would make the
// same output of every dropped input, so there the model's learned placeholders stand in.
MissingInputs Trainer::apply_modality_dropout(torch::Tensor& images, torch::Tensor& tokens) {
  const double p = config_.train.modality_dropout;
  if (p <= 0) return {};
  MissingInputs missing;
  missing.texts = draw_rows(tokens.size(0), p, tokens.device());
  missing.images = draw_rows(images.size(0), p, images.device());
  if (!model_->fusion().has_match()) return missing;
  if (!empty_caption_.defined()) {
    empty_caption_ = torch::empty({tokens.size(1)}, torch::kLong);
    tokenize_into(*tokenizer_, "", static_cast<int>(tokens.size(1)), empty_caption_.data_ptr<int64_t>());
    empty_caption_ = empty_caption_.to(tokens.device());
  }
  images = blank_images(images, missing.images);
  tokens = torch::where(missing.texts.unsqueeze(1), empty_caption_.unsqueeze(0), tokens);
  return {};
}

bool Trainer::skip_step(const char* what, double value) {
  ++skipped_nonfinite_;
  ++nonfinite_in_a_row_;
  clear_gradients(*optimizer_);
  spdlog::warn("step {}: non-finite {} ({}); step skipped", state_.step + 1, what, value);
  if (nonfinite_in_a_row_ >= config_.train.max_nonfinite_in_a_row) {
    throw std::runtime_error(
        std::to_string(nonfinite_in_a_row_) + " non-finite steps in a row (train.max_nonfinite_in_a_row) at step " +
        std::to_string(state_.step + 1) + ": lower optim.lr or raise optim.warmup_steps, set optim.grad_clip (e.g. 1.0), "
        "and check the data for broken images; --resume latest restarts from the last checkpoint");
  }
  return false;
}

void Trainer::log_progress(int64_t total_steps) {
  const IntervalRates rates = clock_.end_interval();
  const double logit_scale = model_->fusion().logit_scale().item<double>();
  nlohmann::json record = {{"kind", "train"},       {"step", state_.step},
                           {"epoch", state_.epoch}, {"loss", last_loss_},
                           {"lr", last_lr_},        {"logit_scale", logit_scale},
                           {"samples_per_s", rates.samples_per_s},
                           {"data_wait_frac", rates.data_wait_fraction},
                           {"skipped_nonfinite", skipped_nonfinite_}};
  if (scaler_.enabled()) record["loss_scale"] = scaler_.scale();
  if (dp_->is_distributed()) record["allreduce_frac"] = rates.allreduce_fraction;
  for (const auto& [name, value] : last_terms_.terms) record["loss/" + name] = value.item<double>();
  write_record(record);
  write_bad_sample_counts();
  spdlog::info("step {}/{} | loss {:.4f} | lr {:.2e} | scale {:.1f} | {:.0f} samples/s | data wait {:.0f}% | ETA {}",
               state_.step, total_steps, interval_loss_.mean(), last_lr_, logit_scale, rates.samples_per_s,
               100.0 * rates.data_wait_fraction, format_duration(clock_.eta_seconds(total_steps - state_.step)));
  interval_loss_ = IntervalLoss{};
}

// metrics.jsonl, and TensorBoard when asked: every number of a train or eval record is a scalar.
void Trainer::write_record(const nlohmann::json& record) {
  if (!metrics_) return;  // ranks other than 0 write nothing
  metrics_->write(record);
  if (!tensorboard_) return;
  const std::string kind = record.value("kind", "");
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& [key, value] : record.items()) {
    if (value.is_number() && key != "step" && key != "epoch") scalars.emplace_back(kind + "/" + key, value.get<double>());
  }
  if (!scalars.empty()) tensorboard_->add_scalars(record.value("step", int64_t{0}), unix_time(), scalars);
}

// A `kind: data` record whenever the skipped-sample counts changed since the last one.
void Trainer::write_bad_sample_counts() {
  const int64_t total = data_.bad_samples->total();
  if (total == bad_samples_written_ || total == 0) return;
  bad_samples_written_ = total;
  nlohmann::json record = {{"kind", "data"}, {"step", state_.step}};
  for (const auto& [key, count] : data_.bad_samples->counts()) record[key] = count;
  write_record(record);
}

void Trainer::write_event(const nlohmann::json& record) {
  if (metrics_) metrics_->write(record);
}

// A signal reaches the ranks at different steps; every rank stops at the first step any saw it.
int Trainer::collective_stop_signal() {
  const int signal = stop_requested();
  if (!dp_->is_distributed()) return signal;
  return dp_->any(signal != 0) ? (signal != 0 ? signal : SIGTERM) : 0;
}

CheckpointMeta Trainer::meta() const {
  CheckpointMeta meta;
  meta.config_yaml = config_to_yaml(config_);
  meta.tokenizer_type = tokenizer_->type();
  meta.tokenizer_bytes = tokenizer_->model_bytes();
  store_task_data(task_, meta);
  meta.state = state_;
  return meta;
}

void Trainer::save_checkpoint_now() {
  if (!dp_->is_main()) {  // rank 0 holds the same model and writes for all
    last_checkpoint_step_ = state_.step;
    return;
  }
  const std::string path = run_dir_.checkpoint_path(state_.step);
  save_checkpoint(path, *model_, *optimizer_, meta(), &scaler_);
  run_dir_.point_latest(path);
  run_dir_.prune(config_.train.keep_last);
  last_checkpoint_step_ = state_.step;
  write_event({{"kind", "event"}, {"event", "checkpoint"}, {"step", state_.step}, {"path", path}});
  spdlog::info("checkpoint {}", path);
}

// The first eval.captioning.samples generated captions, for the report to show beside their
// images: <run>/captions.jsonl, replaced at each evaluation.
void Trainer::write_caption_samples(const std::vector<CaptionSample>& captions) {
  const size_t count = std::min(captions.size(), static_cast<size_t>(config_.eval.captioning.samples));
  if (count == 0) return;
  std::string lines;
  for (size_t i = 0; i < count; ++i) {
    const CaptionSample& sample = captions[i];
    const nlohmann::json record = {{"step", state_.step},
                                   {"image", std::filesystem::absolute(sample.image).string()},
                                   {"caption", sample.caption},
                                   {"score", sample.score},
                                   {"references", sample.references}};
    lines += record.dump() + "\n";
    if (i < 3) spdlog::info("caption of {}: \"{}\" (reference \"{}\")", sample.image, sample.caption, sample.references.front());
  }
  write_file_atomically(run_dir_.file("captions.jsonl"), lines);
}

// The first eval.vqa.samples answered questions, for the report to show beside their images:
// <run>/answers.jsonl, replaced at each evaluation.
void Trainer::write_vqa_samples(const VqaEvalResult& vqa) {
  const size_t count = std::min(vqa.answers.size(), static_cast<size_t>(config_.eval.vqa.samples));
  if (count == 0) return;
  std::string lines;
  for (size_t i = 0; i < count; ++i) {
    const VqaAnswer& answer = vqa.answers[i];
    const PairSample& sample = vqa.questions->samples[static_cast<size_t>(answer.row)];
    const nlohmann::json record = {{"step", state_.step},
                                   {"image", std::filesystem::absolute(sample.image_path).string()},
                                   {"question", sample.captions.front()},
                                   {"answer", answer.answer},
                                   {"accuracy", answer.accuracy},
                                   {"references", sample.answers},
                                   {"question_type", sample.question_type}};
    lines += record.dump() + "\n";
    if (i < 3) spdlog::info("{} {} -> \"{}\" (reference \"{}\")", sample.image_path, sample.captions.front(), answer.answer,
                            sample.answers.empty() ? "" : sample.answers.front());
  }
  write_file_atomically(run_dir_.file("answers.jsonl"), lines);
}

Metrics Trainer::evaluate_now() {
  if (!dp_->is_main()) return {};  // the others wait at their next collective
  EmbedContext context = make_embed_context(config_, model_, tokenizer_, device_);
  context.answers = task_.answers;
  context.actions = task_.actions;
  std::vector<CaptionSample> captions;
  VqaEvalResult vqa;
  std::vector<RolloutResult> rollouts;
  Metrics metrics = evaluate(context, config_.eval, &captions, &vqa, &rollouts);
  model_->train();
  if (metrics.empty()) return metrics;
  write_caption_samples(captions);
  write_vqa_samples(vqa);
  // The report shows <run>/rollouts, replaced at each evaluation.
  if (!rollouts.empty()) write_rollout_frames(rollouts, run_dir_.file("rollouts"));

  nlohmann::json record = {{"kind", "eval"}, {"step", state_.step}};
  std::string line;
  for (const auto& [key, value] : metrics) {
    record[key] = value;
    line += fmt::format(" {} {:.4f}", key, value);
  }
  write_record(record);
  spdlog::info("eval at step {}:{}", state_.step, line);

  const auto best = metrics.find(config_.eval.best_metric);
  if (best != metrics.end() && best->second > state_.best_metric) {
    state_.best_metric = best->second;
    save_checkpoint(run_dir_.best_path(), *model_, *optimizer_, meta(), &scaler_);
  }
  return metrics;
}

TrainSummary Trainer::run() {
  device_ = resolve_device(config_.run.device, dist::dist_env_from_environment().local_rank);
  refuse_unavailable_features(config_);
  check_precision(config_.train.precision, device_);
  dp_ = std::make_unique<DataParallel>(config_);
  if (!dp_->is_main()) spdlog::set_level(spdlog::level::warn);  // rank 0 speaks for the job
  const auto checkpoint = open_run();
  build(checkpoint);
  if (state_.step > 0) {
    write_event({{"kind", "event"}, {"event", "resumed"}, {"step", state_.step}});
  }
  spdlog::info("training {} steps of {} pairs ({} batches per epoch) on {}", total_steps_,
               config_.train.batch_size, loader_->batches_per_epoch(), device_.str());

  model_->train();
  loader_->start_epoch(state_.epoch, state_.batch_in_epoch);
  clock_.start_interval();
  Metrics last_eval;
  int64_t last_eval_step = -1;
  while (state_.step < total_steps_) {
    const double wait_start = clock_.now();
    auto batch = loader_->next();
    clock_.add(StepPhase::kDataWait, clock_.now() - wait_start);
    if (!batch) {
      if (state_.batch_in_epoch == 0) {
        throw DataError(config_.data.train.path + ": epoch " + std::to_string(state_.epoch) +
                        " gave no batch of train.batch_size (too few samples, or all bad)");
      }
      ++state_.epoch;
      state_.batch_in_epoch = 0;
      loader_->start_epoch(state_.epoch);
      continue;
    }
    ++state_.batch_in_epoch;
    if (clock_.steps() == options_.untimed_steps) clock_.start_timed_span();
    step(*batch);
    ++state_.step;
    data_.bad_samples->check(config_.data.train.path);
    clock_.count_step(batch->images.size(0));
    interval_loss_.add(last_loss_);

    if (state_.step % config_.train.log_every == 0 || state_.step == total_steps_) log_progress(total_steps_);
    // Evaluation first, so that the checkpoint of this step carries the best metric it found.
    if (config_.eval.every > 0 && state_.step % config_.eval.every == 0) {
      last_eval = evaluate_now();
      last_eval_step = state_.step;
    }
    const auto every = config_.train.checkpoint_every;
    if (every > 0 && state_.step % every == 0) save_checkpoint_now();
    if (options_.stop_at_step > 0 && state_.step >= options_.stop_at_step && state_.step < total_steps_) {
      if (last_checkpoint_step_ != state_.step) save_checkpoint_now();
      write_event({{"kind", "event"}, {"event", "stopped"}, {"step", state_.step}});
      spdlog::info("stopped at step {} as asked; --resume latest continues", state_.step);
      return TrainSummary{run_dir_.path(), state_.step, last_loss_, last_eval, StepTiming{}};
    }
    if (const int signal = collective_stop_signal()) {
      if (last_checkpoint_step_ != state_.step) save_checkpoint_now();
      write_event({{"kind", "event"}, {"event", "signal"}, {"step", state_.step}, {"signal", signal}});
      spdlog::warn("signal {}: checkpoint written at step {}, stopping", signal, state_.step);
      throw StopRequested(signal);
    }
  }
  const StepTiming timing = clock_.timed();
  if (last_eval_step != state_.step) last_eval = evaluate_now();
  if (!dp_->is_main()) return TrainSummary{run_dir_.path(), state_.step, last_loss_, last_eval, timing};
  if (options_.save_final_checkpoint && last_checkpoint_step_ != state_.step) save_checkpoint_now();
  spdlog::info("done: {} steps in {}", clock_.steps(), format_duration(clock_.seconds_since_start()));
  return TrainSummary{run_dir_.path(), state_.step, last_loss_, last_eval, timing};
}

}  // namespace

TrainSummary train(const Config& config, const TrainOptions& options) {
  Trainer trainer(config, options);
  return trainer.run();
}

}  // namespace mmtrain
