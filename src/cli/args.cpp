#include "args.h"

#include <iostream>

#include "mmtrain/errors.h"

namespace mmtrain::cli {

Args::Args(std::string usage, std::string summary, std::vector<OptionSpec> options)
    : usage_(std::move(usage)), summary_(std::move(summary)), options_(std::move(options)) {}

const OptionSpec& Args::find(const std::string& token) const {
  for (const auto& option : options_) {
    if (token == "--" + option.name || (!option.short_name.empty() && token == "-" + option.short_name)) {
      return option;
    }
  }
  throw ConfigError("unknown option '" + token + "'\nusage: " + usage_);
}

bool Args::parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string token = argv[i];
    if (token == "--help" || token == "-h") {
      std::cout << help();
      return false;
    }
    std::optional<std::string> inline_value;
    if (const auto eq = token.find('='); token.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = token.substr(eq + 1);
      token = token.substr(0, eq);
    }
    const OptionSpec& option = find(token);
    std::string value = "true";
    if (!option.value_name.empty()) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw ConfigError("--" + option.name + " needs a value (" + option.value_name + ")");
      }
    }
    auto& slot = values_[option.name];
    if (!slot.empty() && !option.repeated) throw ConfigError("--" + option.name + " given twice");
    slot.push_back(value);
  }
  return true;
}

std::optional<std::string> Args::get(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::string Args::require(const std::string& name) const {
  if (auto value = get(name)) return *value;
  throw ConfigError("missing --" + name + "\nusage: " + usage_);
}

std::vector<std::string> Args::all(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::string Args::help() const {
  std::string text = "usage: " + usage_ + "\n\n" + summary_ + "\n\noptions:\n";
  for (const auto& option : options_) {
    std::string flag = option.short_name.empty() ? "    " : "-" + option.short_name + ", ";
    flag += "--" + option.name + (option.value_name.empty() ? "" : " " + option.value_name);
    if (flag.size() < 32) flag.resize(32, ' ');
    text += "  " + flag + " " + option.help + "\n";
  }
  return text + "  -h, --help                         this text\n";
}

}  // namespace mmtrain::cli
