// Reading, checking and writing the run configuration. The keys are listed once, in
// config_schema.h; this file walks those lists over a YAML tree.
#include "mmtrain/config/load_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "config_schema.h"
#include "mmtrain/errors.h"
#include "mmtrain/registry.h"

namespace mmtrain {
namespace {

using config_schema::is_section_v;
using config_schema::ListOf;
using config_schema::quoted;

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// What a node holds, for the "found ..." part of messages.
std::string describe(const YAML::Node& node) {
  constexpr size_t kLongest = 60;
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      if (node.Scalar().size() > kLongest) return quoted(node.Scalar().substr(0, kLongest) + "...");
      return quoted(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list of " + std::to_string(node.size()) + (node.size() == 1 ? " item" : " items");
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "an empty value";
  }
}

// Optimal string alignment distance: a swapped pair of letters ("widht") counts as one edit.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// " (did you mean 'width'?)" when one known name is a likely typo of `name`, else the full list.
std::string suggestion(const std::string& name, const std::vector<std::string>& known,
                       const std::string& plural) {
  const std::string* best = nullptr;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& candidate : known) {
    const size_t distance = edit_distance(name, candidate);
    if (distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  // A third of the name's length catches swapped, missing and extra letters without proposing
  // 'lr' for an unrelated two-letter key.
  if (best && best_distance <= std::max<size_t>(1, name.size() / 3)) {
    return " (did you mean '" + *best + "'?)";
  }
  std::string listed;
  for (const auto& candidate : known) listed += (listed.empty() ? "" : ", ") + candidate;
  return " (valid " + plural + ": " + listed + ")";
}

// Where each key path came from, so that checks made after reading can still name a line.
class Origins {
 public:
  explicit Origins(std::string source) : source_(std::move(source)) {}

  void remember(const std::string& path, const YAML::Mark& mark) { marks_[path] = mark; }
  bool given(const std::string& path) const { return marks_.count(path) > 0; }

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    const auto found = marks_.find(path);
    const std::string where = found == marks_.end() ? source_ + ": " : location(found->second);
    throw ConfigError(where + path + ": " + message);
  }

  [[noreturn]] void fail_at(const YAML::Mark& mark, const std::string& path,
                            const std::string& message) const {
    throw ConfigError(location(mark) + path + ": " + message);
  }

 private:
  // Nodes built from --set values carry no mark (see without_marks), file nodes always do.
  std::string location(const YAML::Mark& mark) const {
    if (mark.is_null()) return "--set ";
    return source_ + ":" + std::to_string(mark.line + 1) + ": ";
  }

  std::string source_;
  std::map<std::string, YAML::Mark> marks_;
};

enum class Parsed { ok, invalid, out_of_range };

// YAML allows a leading '+'; std::from_chars does not.
std::string_view without_plus(const std::string& text) {
  std::string_view view(text);
  if (view.size() > 1 && view[0] == '+' && std::isdigit(static_cast<unsigned char>(view[1]))) {
    view.remove_prefix(1);
  }
  return view;
}

Parsed parse_integer(const std::string& text, long long& out) {
  const std::string_view view = without_plus(text);
  const auto result = std::from_chars(view.data(), view.data() + view.size(), out);
  if (result.ec == std::errc::result_out_of_range) return Parsed::out_of_range;
  const bool whole = result.ec == std::errc() && result.ptr == view.data() + view.size();
  return whole && !view.empty() ? Parsed::ok : Parsed::invalid;
}

bool parse_number(const std::string& text, double& out) {
  const std::string_view view = without_plus(text);
  const auto result = std::from_chars(view.data(), view.data() + view.size(), out);
  const bool whole = result.ec == std::errc() && result.ptr == view.data() + view.size();
  return whole && !view.empty() && std::isfinite(out);
}

struct Entry {
  std::string name;
  YAML::Node value;
  YAML::Mark mark;  // the key's line, or a null mark when the value came from --set
};

// The entries of a mapping in file order, refusing unknown and repeated keys.
std::vector<Entry> checked_entries(const YAML::Node& map, const std::string& path,
                                   const std::vector<std::string>& known, const std::string& noun,
                                   const Origins& origins) {
  std::vector<Entry> entries;
  for (const auto& item : map) {
    const YAML::Node& key = item.first;
    const std::string name = key.IsScalar() ? key.Scalar() : describe(key);
    const std::string key_path = join_path(path, name);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      origins.fail_at(key.Mark(), key_path, "unknown " + noun + suggestion(name, known, noun + "s"));
    }
    for (const Entry& earlier : entries) {
      if (earlier.name == name) {
        origins.fail_at(key.Mark(), key_path,
                        "repeated key (first at line " + std::to_string(earlier.mark.line + 1) + ")");
      }
    }
    const YAML::Mark value_mark = item.second.Mark();
    entries.push_back({name, item.second, value_mark.is_null() ? value_mark : key.Mark()});
  }
  return entries;
}

template <class S>
void read_section(const YAML::Node& node, const std::string& path, S& section, Origins& origins);

// Visits one section's field list, reading the keys present in its YAML mapping.
class SectionReader {
 public:
  SectionReader(const YAML::Node& map, std::string path, const std::vector<std::string>& known,
                Origins& origins)
      : path_(std::move(path)),
        entries_(checked_entries(map, path_, known, "key", origins)),
        origins_(origins) {}

  template <class T, class... Checks>
  void operator()(const char* key, T& value, const Checks&... checks) {
    const std::string path = join_path(path_, key);
    const YAML::Node* node = present(key, path);
    if (!node) return;
    if constexpr (is_section_v<T>) {
      read_section(*node, path, value, origins_);
    } else {
      read(*node, path, value);
    }
    (apply(path, checks, value), ...);
  }

  template <class T, class... Checks>
  void operator()(const char* key, std::vector<T>& value, ListOf shape,
                  const Checks&... checks) {
    const std::string path = join_path(path_, key);
    const YAML::Node* node = present(key, path);
    if (!node) return;
    read_numbers(*node, path, shape.count, value);
    (apply(path, checks, value), ...);
  }

 private:
  const YAML::Node* present(const std::string& key, const std::string& path) {
    for (const Entry& entry : entries_) {
      if (entry.name == key) {
        origins_.remember(path, entry.mark);
        return &entry.value;
      }
    }
    return nullptr;
  }

  template <class Check, class T>
  void apply(const std::string& path, const Check& check, T& value) const {
    const std::string problem = check(value);
    if (!problem.empty()) origins_.fail(path, problem);
  }

  void read(const YAML::Node& node, const std::string& path, std::string& out) const {
    if (node.IsNull()) {
      out.clear();  // `path:` with nothing after it, or `--set data.train.path=`
    } else if (node.IsScalar()) {
      out = node.Scalar();
    } else {
      origins_.fail(path, "expected a string, found " + describe(node));
    }
  }

  void read(const YAML::Node& node, const std::string& path, bool& out) const {
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, out)) {
      origins_.fail(path, "expected true or false, found " + describe(node));
    }
  }

  void read(const YAML::Node& node, const std::string& path, double& out) const {
    if (!node.IsScalar() || !parse_number(node.Scalar(), out)) {
      origins_.fail(path, "expected a number, found " + describe(node));
    }
  }

  template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  void read(const YAML::Node& node, const std::string& path, T& out) const {
    long long value = 0;
    const Parsed parsed = node.IsScalar() ? parse_integer(node.Scalar(), value) : Parsed::invalid;
    if (parsed == Parsed::invalid) {
      origins_.fail(path, "expected an integer, found " + describe(node));
    }
    constexpr long long kMin = std::numeric_limits<T>::min();
    constexpr long long kMax = std::numeric_limits<T>::max();
    if (parsed == Parsed::out_of_range || value < kMin || value > kMax) {
      origins_.fail(path, "expected an integer from " + std::to_string(kMin) + " to " +
                              std::to_string(kMax) + ", found " + describe(node));
    }
    out = static_cast<T>(value);
  }

  template <class T>
  void read_numbers(const YAML::Node& node, const std::string& path, size_t count,
                    std::vector<T>& out) const {
    const char* noun = std::is_integral_v<T> ? " integers" : " numbers";
    if (!node.IsSequence() || node.size() != count) {
      origins_.fail(path, "expected a list of " + std::to_string(count) + noun + ", found " +
                              describe(node));
    }
    out.assign(count, T{});
    for (size_t i = 0; i < count; ++i) {
      const YAML::Node item = node[i];
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      origins_.remember(item_path, item.Mark());  // so that a bad item is blamed on its own line
      read(item, item_path, out[i]);
    }
  }

  // loss.terms: a mapping, so that file order is the order of the terms and a name appears once.
  void read(const YAML::Node& node, const std::string& path, std::vector<LossTerm>& out) const {
    out.clear();
    if (node.IsNull()) return;  // the missing terms are reported with the other relations
    if (!node.IsMap()) {
      origins_.fail(path, "expected a mapping of term to weight (e.g. {clip: 1.0}), found " +
                              describe(node));
    }
    for (const Entry& entry : checked_entries(node, path, loss_term_names(), "loss term", origins_)) {
      const std::string term_path = join_path(path, entry.name);
      origins_.remember(term_path, entry.mark);
      LossTerm term{entry.name, 0.0};
      read(entry.value, term_path, term.weight);
      apply(term_path, config_schema::at_least(0), term.weight);
      out.push_back(term);
    }
  }

  std::string path_;
  std::vector<Entry> entries_;
  Origins& origins_;
};

template <class S>
void read_section(const YAML::Node& node, const std::string& path, S& section, Origins& origins) {
  if (node.IsNull()) return;  // `model:` with nothing under it keeps every default
  if (!node.IsMap()) origins.fail(path, "expected a mapping, found " + describe(node));
  SectionReader reader(node, path, config_schema::known_keys<S>(), origins);
  config_schema::visit_fields(reader, section);
}

struct Quantity {
  std::string path;
  int64_t value;
};

// Blames the key the user wrote: the other one may be a default they never saw.
void require_divides(const Origins& origins, const Quantity& divisor, const Quantity& multiple,
                     bool blame_divisor) {
  if (multiple.value % divisor.value == 0) return;
  const Quantity& preferred = blame_divisor ? divisor : multiple;
  const Quantity& other = blame_divisor ? multiple : divisor;
  if (!origins.given(preferred.path) && origins.given(other.path)) blame_divisor = !blame_divisor;
  const auto named = [&](const Quantity& q) {
    return q.path + " " + std::to_string(q.value) + (origins.given(q.path) ? "" : " (default)");
  };
  if (blame_divisor) {
    origins.fail(divisor.path,
                 std::to_string(divisor.value) + " does not divide " + named(multiple));
  }
  origins.fail(multiple.path,
               std::to_string(multiple.value) + " is not divisible by " + named(divisor));
}

void require_heads_divide_width(const Origins& origins, const std::string& section, int width,
                                int heads) {
  require_divides(origins, {section + ".heads", heads}, {section + ".width", width}, false);
}

// Checks that relate two keys; run after every single value has passed its own checks, so
// divisors are known to be positive here.
void check_relations(const Config& config, const Origins& origins) {
  const VisionConfig& vision = config.model.vision;
  require_divides(origins, {"model.vision.patch_size", vision.patch_size},
                  {"model.vision.image_size", vision.image_size}, true);
  require_heads_divide_width(origins, "model.vision", vision.width, vision.heads);
  require_heads_divide_width(origins, "model.text", config.model.text.width,
                             config.model.text.heads);
  require_heads_divide_width(origins, "model.fusion", config.model.fusion.width,
                             config.model.fusion.heads);
  if (!config.model.head.type.empty()) {
    require_divides(origins, {"model.head.heads", config.model.head.heads},
                    {"model.text.width", config.model.text.width}, true);
  }
  // Grouped answers come out as log-probabilities: cross-entropy reads them, a per-answer sigmoid not.
  const auto& terms = config.loss.terms;
  if (config.model.head.answer_types > 0 &&
      std::any_of(terms.begin(), terms.end(), [](const LossTerm& t) { return t.name == "vqa"; })) {
    origins.fail("loss.terms.vqa", "model.head.answer_types gives the answers' log-probabilities; train them with vqa_ce");
  }
  const GenerationConfig& generate = config.eval.captioning.generate;
  if (generate.min_len > generate.max_len) {
    origins.fail("eval.captioning.generate.min_len", std::to_string(generate.min_len) +
                                                         " exceeds eval.captioning.generate.max_len " +
                                                         std::to_string(generate.max_len));
  }
  require_divides(origins, {"train.accum_steps", config.train.accum_steps},
                  {"train.batch_size", config.train.batch_size}, false);
  if (config.train.steps == 0 && config.train.epochs == 0) {
    origins.fail("train.epochs", "must be at least 1 when train.steps is 0");
  }
  if (config.loss.terms.empty()) {
    origins.fail("loss.terms", "needs at least one term (" + alternatives(loss_term_names()) + ")");
  }
}

YAML::Node parse_yaml(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& error) {
    throw ConfigError(source + ":" + std::to_string(error.mark.line + 1) +
                      ": YAML syntax error: " + error.msg);
  }
}

YAML::Node top_level_mapping(const YAML::Node& root, const std::string& source) {
  if (root.IsNull()) return YAML::Node(YAML::NodeType::Map);  // an empty file means all defaults
  if (!root.IsMap()) {
    throw ConfigError(source + ":" + std::to_string(root.Mark().line + 1) +
                      ": expected a mapping of sections (run, data, model, ...), found " +
                      describe(root));
  }
  return root;
}

// --set values are parsed as YAML and then copied into fresh nodes: a node without a mark is how
// the reader tells a --set value from a line of the file.
YAML::Node without_marks(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return YAML::Node(node.Scalar());
    case YAML::NodeType::Sequence: {
      YAML::Node copy(YAML::NodeType::Sequence);
      for (const auto& item : node) copy.push_back(without_marks(item));
      return copy;
    }
    case YAML::NodeType::Map: {
      YAML::Node copy(YAML::NodeType::Map);
      for (const auto& item : node) copy[without_marks(item.first)] = without_marks(item.second);
      return copy;
    }
    default:
      return YAML::Node(YAML::NodeType::Null);
  }
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string> split_key_path(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot = key.find('.'); ; dot = key.find('.', start)) {
    parts.push_back(key.substr(start, dot - start));
    if (parts.back().empty()) throw ConfigError("--set " + key + ": empty name in the key path");
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

std::string key_prefix(const std::vector<std::string>& parts, size_t count) {
  std::string prefix;
  for (size_t i = 0; i < count; ++i) prefix = join_path(prefix, parts[i]);
  return prefix;
}

// Sets parts[depth..] under `node`, making the mappings that are missing on the way.
void set_at_path(YAML::Node node, const std::vector<std::string>& parts, size_t depth,
                 const YAML::Node& value, const std::string& key) {
  const std::string& name = parts[depth];
  if (depth + 1 == parts.size()) {
    node[name] = value;
    return;
  }
  YAML::Node child = node[name];
  if (!child.IsDefined() || child.IsNull()) {
    child = YAML::Node(YAML::NodeType::Map);
  } else if (!child.IsMap()) {
    throw ConfigError("--set " + key + ": " + key_prefix(parts, depth + 1) + " is " +
                      describe(child) + ", not a mapping");
  }
  set_at_path(child, parts, depth + 1, value, key);
}

YAML::Node parse_override_value(const std::string& key, const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& error) {
    throw ConfigError("--set " + key + ": YAML syntax error in the value: " + error.msg);
  }
}

// "a.b.c=VALUE" with VALUE in YAML, so lists and quoted strings come through as on a YAML line.
void apply_override(YAML::Node& root, const std::string& text) {
  const size_t equals = text.find('=');
  const std::string key = trimmed(text.substr(0, equals));
  if (equals == std::string::npos || key.empty()) {
    throw ConfigError("--set " + text + ": expected KEY=VALUE, e.g. --set optim.lr=1e-4");
  }
  const YAML::Node value = parse_override_value(key, text.substr(equals + 1));
  set_at_path(root, split_key_path(key), 0, without_marks(value), key);
}

std::string read_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) throw ConfigError(path + ": cannot read config file: " + std::strerror(errno));
  std::string text;
  char buffer[1 << 16];
  size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, count);
  // A directory opens fine and fails on the first read (EISDIR).
  if (std::ferror(file.get())) {
    throw ConfigError(path + ": cannot read config file: " + std::strerror(errno));
  }
  return text;
}

// Strings that a YAML reader would take for a number, a bool or null are quoted so that they stay
// strings for every reader; YAML::Emitter quotes only what it could not otherwise write.
bool reads_as_other_type(const std::string& text) {
  static const std::set<std::string> kWords = {
      "y",     "Y",     "yes", "Yes", "YES", "n",    "N",    "no",   "No",   "NO",
      "true",  "True",  "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off",
      "Off",   "OFF",   "null", "Null", "NULL", "~"};
  if (text.empty() || kWords.count(text)) return true;
  return std::isdigit(static_cast<unsigned char>(text[0])) ||
         std::string_view("+-.").find(text[0]) != std::string_view::npos;
}

// Shortest round-trip text, always with a '.' so that YAML 1.1 readers see a float too.
std::string yaml_number(double value) {
  std::string text = config_schema::number_text(value);
  if (text.find_first_of(".eEn") == std::string::npos) return text + ".0";
  const size_t exponent = text.find_first_of("eE");
  if (exponent != std::string::npos && text.find('.') == std::string::npos) {
    text.insert(exponent, ".0");
  }
  return text;
}

// Visits one section's field list, writing every key, defaults included.
class SectionWriter {
 public:
  explicit SectionWriter(YAML::Emitter& out) : out_(out) {}

  template <class T, class... Checks>
  void operator()(const char* key, T& value, const Checks&...) {
    out_ << YAML::Key << key << YAML::Value;
    if constexpr (is_section_v<T>) {
      out_ << YAML::BeginMap;
      config_schema::visit_fields(*this, value);
      out_ << YAML::EndMap;
    } else {
      write(value);
    }
  }

 private:
  void write(const std::string& value) {
    // Control characters and edge spaces would read back changed from a plain scalar (a \r ends
    // the line), so such strings are written quoted, with escapes.
    const bool needs_escapes = std::any_of(value.begin(), value.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    }) || (!value.empty() && (value.front() == ' ' || value.back() == ' '));
    if (needs_escapes || reads_as_other_type(value)) out_ << YAML::DoubleQuoted;
    out_ << value;
  }
  void write(bool value) { out_ << value; }
  void write(int value) { out_ << value; }
  void write(int64_t value) { out_ << value; }
  void write(double value) { out_ << yaml_number(value); }

  template <class T>
  void write(const std::vector<T>& values) {
    out_ << YAML::Flow << YAML::BeginSeq;
    for (const T& value : values) write(value);
    out_ << YAML::EndSeq;
  }

  void write(const std::vector<LossTerm>& terms) {
    out_ << YAML::Flow << YAML::BeginMap;
    for (const LossTerm& term : terms) {
      out_ << YAML::Key << term.name << YAML::Value << yaml_number(term.weight);
    }
    out_ << YAML::EndMap;
  }

  YAML::Emitter& out_;
};

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source,
                    const std::vector<std::string>& overrides) {
  register_builtins();  // the registries hold the names of towers, fusions and loss terms
  const std::string name = source.empty() ? "<config>" : source;
  YAML::Node root = top_level_mapping(parse_yaml(yaml_text, name), name);
  for (const std::string& override_text : overrides) apply_override(root, override_text);
  Origins origins(name);
  Config config;
  read_section(root, "", config, origins);
  check_relations(config, origins);
  config.source = source;
  return config;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_config(read_file(path), path, overrides);
}

std::string config_to_yaml(const Config& config) {
  Config fields = config;  // the field lists take non-const references
  YAML::Emitter out;
  SectionWriter writer(out);
  out << YAML::BeginMap;
  config_schema::visit_fields(writer, fields);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace mmtrain
