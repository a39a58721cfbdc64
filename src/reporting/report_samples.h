// The report's samples section: what a task head produced, shown beside its inputs (generated
// captions beside their images and references), read from the files the trainer writes at each
// evaluation. Internal to src/reporting.
#pragma once

#include <filesystem>
#include <string>

namespace mmtrain {

// "" when the run has no samples file (a contrastive run).
std::string caption_samples_section(const std::filesystem::path& run_dir);
// Answered questions beside their images (<run>/answers.jsonl); "" without them.
std::string answer_samples_section(const std::filesystem::path& run_dir);

// Rollout frame strips (<run>/rollouts/rollouts.jsonl, written by eval.rollout and `mmtrain
// rollout --frames`); "" without them.
std::string rollout_samples_section(const std::filesystem::path& run_dir);

// RFC 4648 base64 of `bytes`, for images embedded in the page as data: URIs.
std::string base64(const std::string& bytes);

}  // namespace mmtrain
