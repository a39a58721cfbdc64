// Reading a Config from YAML with validation, --set overrides, and writing the resolved config.
// Every error names the source, the line and the key path, e.g.
//   configs/run.yaml:14: model.vision.widht: unknown key (did you mean 'width'?)
#pragma once

#include <string>
#include <vector>

#include "mmtrain/config/config.h"

namespace mmtrain {

// Reads `path`, applies `overrides` ("key.path=yaml value", applied in order), validates.
// Throws ConfigError (missing file, YAML syntax, unknown key, wrong type, out-of-range value).
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The same from text; `source` names it in messages.
Config parse_config(const std::string& yaml_text, const std::string& source,
                    const std::vector<std::string>& overrides = {});

// The resolved config as YAML: every key, defaults included. parse_config() of it gives it back.
std::string config_to_yaml(const Config& config);

}  // namespace mmtrain
