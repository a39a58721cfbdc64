// The `mmtrain` subcommands. Each takes the arguments after its own name and returns the exit
// code; errors propagate as exceptions that main() maps to exit codes.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace mmtrain {
struct PairDataset;
}  // namespace mmtrain

namespace mmtrain::cli {

int run_train(int argc, char** argv);
int run_eval(int argc, char** argv);
int run_embed(int argc, char** argv);
int run_caption(int argc, char** argv);
int run_vqa(int argc, char** argv);
int run_rollout(int argc, char** argv);
int run_data(int argc, char** argv);
int run_tokenizer(int argc, char** argv);
int run_convert(int argc, char** argv);
int run_export(int argc, char** argv);
int run_report(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_launch(int argc, char** argv);

class Args;

// The images of --images CSV, with --image-key (default filepath) and --separator (default TAB):
// what embed and caption read.
PairDataset read_images_option(const Args& args, const std::string& csv);

// For commands whose JSON lines own standard output: the log moves to standard error.
void log_to_stderr(const std::string& logger_name);

// `record` as indented JSON to the file `target`, or to standard output for "-".
void write_json(const std::string& target, const nlohmann::json& record);

// Prints "metric value" rows, aligned.
void print_metrics(const std::map<std::string, double>& metrics);

// A whole number >= 0 from an option's value; ConfigError naming the option otherwise.
int64_t parse_count(const std::string& option, const std::string& value);

// run.threads as given, or when it is 0 and several ranks share this machine (LOCAL_WORLD_SIZE
// from torchrun or `mmtrain launch`), the cores divided among them.
int threads_per_process(int threads);

// Threads and the start-up line (LibTorch threads, BLAS) that every torch-using command logs.
void configure_runtime(int threads);

}  // namespace mmtrain::cli
