#include "mmtrain/losses/loss.h"

#include "mmtrain/errors.h"
#include "mmtrain/losses/uncertainty_weighting.h"

namespace mmtrain {

namespace {

LossTermDescriptor descriptor_of_term(const std::string& name) {
  register_builtin_loss_terms();
  return loss_term_registry().find(name, "loss.terms").descriptor;
}

std::string term_key(const std::string& name) { return "loss.terms." + name; }

void require_fits(const std::string& name, const LossTermDescriptor& term, MultimodalModelImpl& model) {
  const std::string unmet = unmet_needs(term.needs, descriptor_of(model.fusion()));
  if (!unmet.empty()) throw ConfigError(term_key(name) + ": " + unmet);
  if (!term.head.empty() && model.head() == nullptr) {
    throw ConfigError(term_key(name) + ": this term trains the '" + term.head + "' head; set model.head.type: " +
                      term.head);
  }
}

void require_several_processes(const std::string& name, const LossTermDescriptor& term) {
  if (term.runs_on_several_processes) return;
  const auto able = loss_term_registry().names_where(
      [](const LossTermEntry& entry) { return entry.descriptor.runs_on_several_processes; });
  throw ConfigError(term_key(name) + ": this term needs the whole batch on one process; training on several "
                    "processes takes terms that compute their share against every rank's embeddings (" +
                    listed(able) + ")");
}

}  // namespace

LossParametersImpl::LossParametersImpl(const LossConfig& config) {
  for (const auto& term : config.terms) {
    for (const auto& scalar : descriptor_of_term(term.name).learned_scalars) {
      register_parameter(scalar.name, torch::full({}, scalar.initial));
    }
  }
  if (config.balance == "uncertainty") {
    log_vars = register_parameter("log_vars", torch::zeros({static_cast<int64_t>(config.terms.size())}));
  }
}

bool needs_loss_parameters(const LossConfig& config) {
  for (const auto& term : config.terms) {
    if (!descriptor_of_term(term.name).learned_scalars.empty()) return true;
  }
  return config.balance == "uncertainty";
}

void attach_loss_parameters(MultimodalModelImpl& model, const LossConfig& config) {
  if (needs_loss_parameters(config)) model.register_module("loss", std::make_shared<LossParametersImpl>(config));
}

LossParametersImpl& loss_parameters(MultimodalModelImpl& model) {
  // named_children() returns a copy: find() points into it, so it must outlive the lookup.
  const auto children = model.named_children();
  const auto* params = children.find("loss");
  TORCH_CHECK(params != nullptr, "the model has no loss parameters attached (attach_loss_parameters)");
  return *(*params)->as<LossParametersImpl>();
}

void check_loss_fits_model(const LossConfig& config, MultimodalModelImpl& model) {
  for (const auto& term : config.terms) require_fits(term.name, descriptor_of_term(term.name), model);
}

void check_loss_accumulates(const LossConfig& config) {
  for (const auto& term : config.terms) {
    const std::string obstacle = descriptor_of_term(term.name).why_not_accumulable();
    if (obstacle.empty()) continue;
    const auto able = loss_term_registry().names_where(
        [](const LossTermEntry& entry) { return entry.descriptor.why_not_accumulable().empty(); });
    throw ConfigError("train.accum_steps: loss term '" + term.name + "' cannot be summed over cached micro-batches: " +
                      obstacle + " (terms that can: " + listed(able) + "); use 1");
  }
  if (config.balance == "uncertainty") {
    throw ConfigError("train.accum_steps: loss.balance uncertainty learns one log-variance per term, and every "
                      "micro-batch's backward would add its whole gradient; use 1 or loss.balance fixed");
  }
}

LossConfig per_micro_batch(const LossConfig& config, int micro_batches) {
  LossConfig scaled = config;
  for (auto& term : scaled.terms) {
    if (descriptor_of_term(term.name).mean_over_rows) term.weight /= micro_batches;
  }
  return scaled;
}

LossResult combine_micro_batches(const LossConfig& config, const std::vector<LossResult>& parts) {
  LossResult combined = parts.back();
  combined.total = torch::zeros({}, parts.back().total.options());
  for (size_t t = 0; t < config.terms.size(); ++t) {
    auto& value = combined.terms[t].second;
    if (descriptor_of_term(config.terms[t].name).mean_over_rows) {
      value = torch::zeros({}, value.options());
      for (const auto& part : parts) value = value + part.terms[t].second.detach();
      value = value / static_cast<double>(parts.size());
    }
    combined.total = combined.total + config.terms[t].weight * value.detach();
  }
  return combined;
}

void check_loss_runs_on_several_processes(const LossConfig& config) {
  for (const auto& term : config.terms) require_several_processes(term.name, descriptor_of_term(term.name));
}

LossResult compute_loss(const LossConfig& config, const ModelOutput& output, MultimodalModelImpl& model,
                        const GlobalEmbeddings* global) {
  register_builtin_loss_terms();
  const LossTermInputs inputs{output, model, global, config};
  LossResult result;
  std::vector<torch::Tensor> weighted;
  for (const auto& term : config.terms) {
    const LossTermEntry entry = loss_term_registry().find(term.name, "loss.terms");
    require_fits(term.name, entry.descriptor, model);
    if (global) require_several_processes(term.name, entry.descriptor);
    auto value = entry.compute(inputs);
    weighted.push_back(term.weight * value);
    result.terms.emplace_back(term.name, value);
  }
  if (config.balance == "uncertainty") {
    result.total = uncertainty_weighted_sum(weighted, loss_parameters(model).log_vars);
  } else {
    result.total = weighted.front();
    for (size_t k = 1; k < weighted.size(); ++k) result.total = result.total + weighted[k];
  }
  return result;
}

}  // namespace mmtrain
