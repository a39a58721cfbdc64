// The one list of config keys: each section's fields in file order, with the checks that a single
// value must pass. Reading, unknown-key detection and writing all walk these lists, so a key added
// here is read, checked, suggested and written with no other change. Checks that relate two keys
// (divisibility and the like) live in load_config.cpp, next to the messages that name both.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/registered_names.h"
#include "mmtrain/text/sentencepiece_tokenizer.h"

namespace mmtrain::config_schema {

// Shortest text that reads back as the same double, so messages and written configs show 0.9,
// not 0.90000000000000002.
inline std::string number_text(double x) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, result.ptr);
}

template <class T>
std::string value_text(const T& value) {
  if constexpr (std::is_integral_v<T>) {
    return std::to_string(value);
  } else {
    return number_text(value);
  }
}

// 'text' with control characters spelled out, so a stray tab or newline is visible in a message.
inline std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char ch : text) {
    if (ch == '\t') out += "\\t";
    else if (ch == '\n') out += "\\n";
    else if (ch == '\r') out += "\\r";
    else out += ch;
  }
  return out + "'";
}

template <class T>
std::string list_text(const std::vector<T>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + value_text(values[i]);
  return text + "]";
}

// Each check returns "" when the value is acceptable, else the message that follows "key.path: ".

struct AtLeast {
  double min;
  template <class T>
  std::string operator()(const T& value) const {
    if (static_cast<double>(value) >= min) return "";
    return "must be >= " + number_text(min) + ", found " + value_text(value);
  }
};

struct Positive {
  template <class T>
  std::string operator()(const T& value) const {
    return value > 0 ? "" : "must be positive, found " + value_text(value);
  }
};

struct Between {
  double min, max;
  std::string operator()(double value) const {
    if (value >= min && value <= max) return "";
    return "must be between " + number_text(min) + " and " + number_text(max) + ", found " +
           number_text(value);
  }
};

struct NonEmpty {
  std::string operator()(const std::string& value) const {
    return value.empty() ? "must not be empty" : "";
  }
};

struct OneOf {
  std::vector<std::string> options;
  std::string operator()(const std::string& value) const {
    std::string listed;
    for (const auto& option : options) {
      if (value == option) return "";
      listed += (listed.empty() ? "" : ", ") + quoted(option);
    }
    return "expected one of " + listed + ", found " + quoted(value);
  }
};

// A name that a registry holds (towers, fusions): the list is read from the registry when the
// value is checked, so that no list of names is kept here.
struct Registered {
  std::vector<std::string> (*names)();
  std::string operator()(const std::string& value) const { return OneOf{names()}(value); }
};

// The shell hands `--set data.train.separator='\t'` to us as backslash-t, and YAML single quotes
// keep it that way, so the two characters mean TAB here rather than surprising the user.
struct SingleCharacter {
  std::string operator()(std::string& value) const {
    if (value == "\\t") value = "\t";
    if (value.size() == 1) return "";
    const std::string shown = value.empty() ? "an empty string" : quoted(value);
    return "expected exactly one character (e.g. ',' or '\\t'), found " + shown;
  }
};

// An optional registered name: "" (none) or a name the registry holds (model.head.type).
struct EmptyOrRegistered {
  std::vector<std::string> (*names)();
  std::string operator()(const std::string& value) const {
    return value.empty() ? "" : OneOf{names()}(value);
  }
};

// run.device: auto, cpu, cuda or cuda:N (N a device index).
struct DeviceName {
  std::string operator()(const std::string& value) const {
    if (value == "auto" || value == "cpu" || value == "cuda") return "";
    const std::string prefix = "cuda:";
    const std::string index = value.rfind(prefix, 0) == 0 ? value.substr(prefix.size()) : "";
    const bool digits = !index.empty() && index.size() < 4 &&
                        index.find_first_not_of("0123456789") == std::string::npos;
    return digits ? "" : "expected auto, cpu, cuda or cuda:N (N a device index), found " + quoted(value);
  }
};

// The length of a list is part of its type: "expected a list of 2 numbers" comes from the reader.
struct ListOf {
  size_t count;
};

// Two numbers lo < a <= b (<= hi when hi is finite): crop scales and aspect ratios.
struct OrderedPair {
  double lo, hi;
  std::string operator()(const std::vector<double>& v) const {
    const bool ok = v[0] > lo && v[0] <= v[1] && v[1] <= hi;
    if (ok) return "";
    std::string bound = number_text(lo) + " < a <= b";
    if (std::isfinite(hi)) bound += " <= " + number_text(hi);
    return "expected two numbers " + bound + ", found " + list_text(v);
  }
};

// Each number in [lo, hi): Adam betas.
struct EachInHalfOpen {
  double lo, hi;
  std::string operator()(const std::vector<double>& v) const {
    for (double x : v) {
      if (!(x >= lo && x < hi)) {
        return "expected numbers in [" + number_text(lo) + ", " + number_text(hi) + "), found " +
               list_text(v);
      }
    }
    return "";
  }
};

struct EachPositive {
  template <class T>
  std::string operator()(const std::vector<T>& v) const {
    for (T x : v) {
      if (!(x > 0)) return "expected positive numbers, found " + list_text(v);
    }
    return "";
  }
};

inline constexpr Positive positive{};
inline constexpr NonEmpty non_empty{};
inline constexpr SingleCharacter single_character{};
inline constexpr EachPositive each_positive{};
inline AtLeast at_least(double min) { return {min}; }
inline Between between(double min, double max) { return {min, max}; }
inline OneOf one_of(std::vector<std::string> options) { return {std::move(options)}; }
inline ListOf list_of(size_t count) { return {count}; }

inline constexpr double kUnbounded = std::numeric_limits<double>::infinity();
inline const OneOf kActivations = one_of({"gelu", "quick_gelu"});
inline const OneOf kPairSources = one_of({"csv", "jsonl", "coco", "vqa", "vqa_v2", "episodes", "webdataset"});

template <class V>
void visit_fields(V& v, RunConfig& c) {
  v("name", c.name, non_empty);
  v("output_dir", c.output_dir, non_empty);
  v("seed", c.seed);
  v("threads", c.threads, at_least(0));
  v("device", c.device, DeviceName{});
}

template <class V>
void visit_fields(V& v, PairSourceConfig& c) {
  v("type", c.type, kPairSources);
  v("path", c.path);
  v("image_key", c.image_key, non_empty);
  v("caption_key", c.caption_key, non_empty);
  v("separator", c.separator, single_character);
  v("image_root", c.image_root);
  v("question_key", c.question_key, non_empty);
  v("answer_key", c.answer_key, non_empty);
  v("annotations", c.annotations);
}

template <class V>
void visit_fields(V& v, TrainDataConfig& c) {
  visit_fields(v, static_cast<PairSourceConfig&>(c));
  v("num_samples", c.num_samples, at_least(0));
  v("shuffle_buffer", c.shuffle_buffer, at_least(0));
}

template <class V>
void visit_fields(V& v, AugmentConfig& c) {
  v("crop_scale", c.crop_scale, list_of(2), OrderedPair{0, 1});
  v("crop_ratio", c.crop_ratio, list_of(2), OrderedPair{0, kUnbounded});
  v("flip", c.flip);
  v("color_jitter", c.color_jitter, at_least(0));
  v("grayscale", c.grayscale, between(0, 1));
  v("word_dropout", c.word_dropout, between(0, 1));
}

template <class V>
void visit_fields(V& v, DataConfig& c) {
  v("train", c.train);
  v("workers", c.workers, at_least(0));
  v("max_bad_fraction", c.max_bad_fraction, between(0, 1));
  v("max_image_pixels", c.max_image_pixels, positive);
  v("augment", c.augment);
  v("mean", c.mean, list_of(3));
  v("std", c.std, list_of(3), each_positive);
}

template <class V>
void visit_fields(V& v, TokenizerConfig& c) {
  v("type", c.type, one_of({"sentencepiece", "clip_bpe"}));
  v("path", c.path);
  v("vocab_size", c.vocab_size, at_least(0));
  v("model_type", c.model_type, one_of(sentencepiece_model_types()));
}

template <class V>
void visit_fields(V& v, VisionConfig& c) {
  v("type", c.type, non_empty, Registered{vision_tower_types});
  v("image_size", c.image_size, positive);
  v("patch_size", c.patch_size, positive);
  v("width", c.width, positive);
  v("layers", c.layers, positive);
  v("heads", c.heads, positive);
  v("mlp_ratio", c.mlp_ratio, positive);
  v("act", c.act, kActivations);
  v("pool", c.pool, one_of({"cls", "mean"}));
  v("stage_layers", c.stage_layers, list_of(4), each_positive);
  v("attn_pool_queries", c.attn_pool_queries, at_least(0));
  v("attn_pool_heads", c.attn_pool_heads, positive);
  v("attn_pool_width", c.attn_pool_width, at_least(0));
  v("patch_dropout", c.patch_dropout, between(0, 0.95));
  v("position", c.position, one_of({"none", "sincos"}));
  v("output_width", c.output_width, at_least(0));
}

template <class V>
void visit_fields(V& v, TextConfig& c) {
  v("type", c.type, non_empty, Registered{text_tower_types});
  v("context_length", c.context_length, positive);
  v("width", c.width, positive);
  v("layers", c.layers, positive);
  v("heads", c.heads, positive);
  v("mlp_ratio", c.mlp_ratio, positive);
  v("act", c.act, kActivations);
  v("embed_cls", c.embed_cls);
}

template <class V>
void visit_fields(V& v, FusionConfig& c) {
  v("type", c.type, Registered{fusion_types});
  v("width", c.width, positive);
  v("layers", c.layers, positive);
  v("heads", c.heads, positive);
  v("mlp_ratio", c.mlp_ratio, positive);
}

template <class V>
void visit_fields(V& v, HeadConfig& c) {
  v("type", c.type, EmptyOrRegistered{head_types});
  v("layers", c.layers, positive);
  v("heads", c.heads, positive);
  v("mlp_ratio", c.mlp_ratio, positive);
  v("answers", c.answers, positive);
  v("answer_types", c.answer_types, at_least(0));
  v("chunk", c.chunk, positive);
  v("bins", c.bins, at_least(0));
  v("hidden", c.hidden, at_least(0));
  v("point", c.point, one_of({"joint", "words"}));
  v("action_dims", c.action_dims, at_least(0));
  v("state_dims", c.state_dims, at_least(0));
}

template <class V>
void visit_fields(V& v, InitFromConfig& c) {
  v("format", c.format, one_of({"", "mmtrain", "open_clip"}));
  v("weights", c.weights);
  v("config", c.config);
  v("strict", c.strict);
  v("image_size", c.image_size, at_least(0));
  v("context_length", c.context_length, at_least(0));
  v("key_map", c.key_map);
}

template <class V>
void visit_fields(V& v, LockConfig& c) {
  v("vision", c.vision);
  v("text", c.text);
  v("vision_unlocked_groups", c.vision_unlocked_groups, at_least(0));
  v("text_unlocked_layers", c.text_unlocked_layers, at_least(0));
}

template <class V>
void visit_fields(V& v, ModelConfig& c) {
  v("embed_dim", c.embed_dim, positive);
  v("vision", c.vision);
  v("text", c.text);
  v("fusion", c.fusion);
  v("head", c.head);
  v("init_from", c.init_from);
  v("lock", c.lock);
}

template <class V>
void visit_fields(V& v, LossConfig& c) {
  v("terms", c.terms);  // a mapping whose keys are loss_term_names(); checked while reading it
  v("balance", c.balance, one_of({"fixed", "uncertainty"}));
  v("label_smoothing", c.label_smoothing, between(0, 0.99));
  v("caption_input_dropout", c.caption_input_dropout, between(0, 0.9));
}

template <class V>
void visit_fields(V& v, OptimConfig& c) {
  v("lr", c.lr, positive);
  v("weight_decay", c.weight_decay, at_least(0));
  v("betas", c.betas, list_of(2), EachInHalfOpen{0, 1});
  v("eps", c.eps, positive);
  v("warmup_steps", c.warmup_steps, at_least(0));
  v("schedule", c.schedule, one_of({"cosine", "constant"}));
  v("grad_clip", c.grad_clip, at_least(0));
  v("layer_decay", c.layer_decay, between(0, 1));
}

template <class V>
void visit_fields(V& v, TrainConfig& c) {
  v("batch_size", c.batch_size, at_least(1));
  v("accum_steps", c.accum_steps, at_least(1));
  v("steps", c.steps, at_least(0));
  v("epochs", c.epochs, at_least(0));
  v("precision", c.precision, one_of({"fp32", "bf16", "fp16"}));
  v("log_every", c.log_every, at_least(1));
  v("checkpoint_every", c.checkpoint_every, at_least(0));
  v("keep_last", c.keep_last, at_least(1));
  v("modality_dropout", c.modality_dropout, between(0, 1));
  v("image_dropout", c.image_dropout, between(0, 1));
  v("max_nonfinite_in_a_row", c.max_nonfinite_in_a_row, at_least(1));
  v("tensorboard", c.tensorboard);
  v("grad_checkpointing", c.grad_checkpointing);
}

template <class V>
void visit_fields(V& v, ZeroShotConfig& c) {
  v("type", c.type, one_of({"csv", "image_folder"}));
  v("path", c.path);
  v("image_key", c.image_key, non_empty);
  v("label_key", c.label_key, non_empty);
  v("separator", c.separator, single_character);
  v("classnames", c.classnames);
  v("templates", c.templates);
}

template <class V>
void visit_fields(V& v, GenerationConfig& c) {
  v("max_len", c.max_len, positive);
  v("min_len", c.min_len, at_least(0));
  v("beam", c.beam, positive);
  v("length_penalty", c.length_penalty);
  v("no_repeat_ngram", c.no_repeat_ngram, at_least(0));
  v("top_k", c.top_k, at_least(0));
  v("top_p", c.top_p, between(0.01, 1));
  v("temperature", c.temperature, positive);
  v("repetition_penalty", c.repetition_penalty, positive);
  v("contrast", c.contrast, at_least(0));
  v("plausibility", c.plausibility, between(1e-6, 1));
  v("open_clip", c.open_clip);
}

template <class V>
void visit_fields(V& v, CaptioningEvalConfig& c) {
  visit_fields(v, static_cast<PairSourceConfig&>(c));
  v("generate", c.generate);
  v("attributes", c.attributes);
  v("samples", c.samples, at_least(0));
}

template <class V>
void visit_fields(V& v, VqaEvalConfig& c) {
  visit_fields(v, static_cast<PairSourceConfig&>(c));
  v("question_only", c.question_only);
  v("samples", c.samples, at_least(0));
}

template <class V>
void visit_fields(V& v, ActionEvalConfig& c) {
  visit_fields(v, static_cast<PairSourceConfig&>(c));
}

template <class V>
void visit_fields(V& v, RolloutEvalConfig& c) {
  v("episodes", c.episodes, at_least(0));
  v("splits", c.splits, non_empty);
  v("frames", c.frames, at_least(0));
  v("execute", c.execute, positive);
}

template <class V>
void visit_fields(V& v, EvalConfig& c) {
  v("every", c.every, at_least(0));
  v("zeroshot", c.zeroshot);
  v("retrieval", c.retrieval);
  v("captioning", c.captioning);
  v("vqa", c.vqa);
  v("actions", c.actions);
  v("rollout", c.rollout);
  v("rerank_k", c.rerank_k, at_least(0));
  v("degraded", c.degraded);
  v("batch_size", c.batch_size, at_least(1));
  v("best_metric", c.best_metric, non_empty);
}

template <class V>
void visit_fields(V& v, Config& c) {
  v("run", c.run);
  v("data", c.data);
  v("tokenizer", c.tokenizer);
  v("model", c.model);
  v("loss", c.loss);
  v("optim", c.optim);
  v("train", c.train);
  v("eval", c.eval);
}

// A section is anything with a field list; visitors recurse into sections and handle the rest as
// values.
struct AnyVisitor {
  template <class... A>
  void operator()(A&&...) {}
};

template <class T, class = void>
struct is_section : std::false_type {};
template <class T>
struct is_section<T, std::void_t<decltype(visit_fields(std::declval<AnyVisitor&>(),
                                                       std::declval<T&>()))>> : std::true_type {};
template <class T>
inline constexpr bool is_section_v = is_section<T>::value;

struct KeyLister {
  std::vector<std::string> keys;
  template <class T, class... Checks>
  void operator()(const char* key, T&, const Checks&...) {
    keys.push_back(key);
  }
};

template <class S>
std::vector<std::string> known_keys() {
  S section;
  KeyLister lister;
  visit_fields(lister, section);
  return lister.keys;
}

}  // namespace mmtrain::config_schema
