#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include "args.h"
#include "commands.h"
#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "mmtrain/ops/dispatch.h"
#include "mmtrain/runtime/libtorch_compat.h"
#include "mmtrain/runtime/startup.h"

namespace mmtrain::cli {

void log_to_stderr(const std::string& logger_name) {
  auto logger = spdlog::stderr_color_mt(logger_name);
  logger->set_pattern("[%H:%M:%S] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
}

void write_json(const std::string& target, const nlohmann::json& record) {
  if (target == "-") {
    std::cout << record.dump(2) << "\n";
    return;
  }
  std::ofstream out(target);
  out << record.dump(2) << "\n";
  if (!out) throw std::runtime_error(target + ": cannot write");
}

void print_metrics(const std::map<std::string, double>& metrics) {
  size_t width = 6;
  for (const auto& entry : metrics) width = std::max(width, entry.first.size());
  std::printf("%-*s  %s\n", static_cast<int>(width), "metric", "value");
  for (const auto& [key, value] : metrics) std::printf("%-*s  %.4f\n", static_cast<int>(width), key.c_str(), value);
}

PairDataset read_images_option(const Args& args, const std::string& csv) {
  const std::string separator = args.get("separator").value_or("\t");
  if (separator.size() != 1) throw ConfigError("--separator: expected one character");
  return read_image_csv(csv, args.get("image-key").value_or("filepath"), separator[0]);
}

int64_t parse_count(const std::string& option, const std::string& value) {
  char* end = nullptr;
  const long long parsed = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || parsed < 0) {
    throw ConfigError(option + ": expected a whole number >= 0, found '" + value + "'");
  }
  return parsed;
}

int threads_per_process(int threads) {
  if (threads > 0) return threads;
  const char* local = std::getenv("LOCAL_WORLD_SIZE");
  const int ranks = local ? std::max(1, std::atoi(local)) : 1;
  if (ranks == 1) return 0;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks);
}

void configure_runtime(int threads) {
  const int used = configure_threads(threads);
  const std::string blas = blas_in_use();
  // Also refuses a bad MMTRAIN_KERNELS before any work starts.
  const bool kernels = ops::kernels_enabled();
  const auto gpus = torch::cuda::device_count();  // 0 without CUDA
  const std::string cuda = gpus > 0 ? ", " + std::to_string(gpus) + " CUDA device(s)" : "";
  spdlog::info("LibTorch {}{}, {} threads, BLAS: {}, kernels: {}", compat::libtorch_version(), cuda, used, blas,
               kernels ? "on" : "off (MMTRAIN_KERNELS)");
  if (blas.rfind("reference", 0) == 0) {
    spdlog::warn("the reference BLAS is 20-40x slower: install libopenblas0-openmp");
  }
}

}  // namespace mmtrain::cli
