// Reading a run's metrics.jsonl back in tests.
#pragma once

#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace mmtrain::test {

// step -> loss of the `kind: train` records.
inline std::map<int64_t, double> train_losses(const std::string& metrics_path) {
  std::map<int64_t, double> losses;
  std::ifstream in(metrics_path);
  for (std::string line; std::getline(in, line);) {
    const auto record = nlohmann::json::parse(line);
    if (record["kind"] == "train") losses[record["step"].get<int64_t>()] = record["loss"].get<double>();
  }
  return losses;
}

}  // namespace mmtrain::test
