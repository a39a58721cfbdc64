// A small command-line parser for the subcommands: --long and -s options, "--opt value" and
// "--opt=value", repeatable options, --help. Errors are ConfigErrors (exit code 2).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mmtrain::cli {

struct OptionSpec {
  std::string name;        // long name without dashes
  std::string short_name;  // "" or one letter
  std::string value_name;  // "" for a flag
  std::string help;
  bool repeated = false;
};

class Args {
 public:
  Args(std::string usage, std::string summary, std::vector<OptionSpec> options);
  // Returns false when --help was asked for (the help is printed).
  bool parse(int argc, char** argv);
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;  // throws naming the missing option
  std::vector<std::string> all(const std::string& name) const;
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string help() const;

 private:
  const OptionSpec& find(const std::string& token) const;

  std::string usage_, summary_;
  std::vector<OptionSpec> options_;
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace mmtrain::cli
