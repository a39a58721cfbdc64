// `mmtrain vqa`: answers a file of questions with a checkpoint's vqa head, as JSON lines, and
// scores them when they have reference answers.
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "args.h"
#include "commands.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/checkpoint_model.h"
#include "mmtrain/eval/vqa.h"
#include "mmtrain/runtime/startup.h"

namespace mmtrain::cli {

namespace {

PairSourceConfig question_source(const Args& args) {
  PairSourceConfig source;
  source.type = args.get("type").value_or("vqa");
  if (source.type != "vqa" && source.type != "vqa_v2") throw ConfigError("--type: expected vqa or vqa_v2, got " + source.type);
  source.path = args.require("questions");
  source.annotations = args.get("annotations").value_or("");
  source.image_root = args.get("image-root").value_or("");
  return source;
}

std::string answer_record(const PairSample& sample, const VqaAnswer& answer) {
  nlohmann::json record = {{"image", sample.image_path}, {"question", sample.captions.front()}, {"answer", answer.answer}};
  if (sample.question_id >= 0) record["question_id"] = sample.question_id;
  if (!sample.answers.empty()) record["accuracy"] = answer.accuracy;
  return record.dump() + "\n";
}

}  // namespace

int run_vqa(int argc, char** argv) {
  Args args("mmtrain vqa --checkpoint CK --questions FILE [--type vqa|vqa_v2] [--annotations FILE] [--out FILE.jsonl]",
            "Answers questions about images with a checkpoint's vqa head: one JSON line per question "
            "({image, question, answer, question_id when VQA v2 gives one, accuracy when the question has "
            "reference answers}), and VQA v2's accuracy overall and per question type when it does.",
            {{"checkpoint", "", "CK", "checkpoint file (or checkpoints/latest)"},
             {"questions", "", "FILE", "JSONL of {image, question[, answers, question_type]}, or VQA v2's questions JSON"},
             {"type", "", "vqa|vqa_v2", "format of --questions (default vqa: JSONL)"},
             {"annotations", "", "FILE", "vqa_v2: the annotations JSON (reference answers)"},
             {"image-root", "", "DIR", "images relative to this folder (default: the questions file's)"},
             {"question-only", "", "", "blank every image: the question-only baseline of this model"},
             {"device", "", "DEVICE", "auto, cpu, cuda or cuda:N (default: the checkpoint's run.device)"},
             {"out", "", "FILE.jsonl", "output file (default: standard output)"}});
  if (!args.parse(argc, argv)) return 0;
  if (!args.has("out")) log_to_stderr("vqa");
  CheckpointModel loaded = load_checkpoint_model(args.require("checkpoint"), torch::kCPU);
  configure_runtime(loaded.config.run.threads);
  const auto device = resolve_device(args.get("device").value_or(loaded.config.run.device));
  loaded.model->to(device);
  EmbedContext context = make_embed_context(loaded.config, loaded.model, loaded.tokenizer, device);
  context.answers = loaded.answers;
  auto questions = std::make_shared<PairDataset>(read_pair_source(question_source(args), "--questions"));
  if (questions->samples.empty()) throw DataError(*args.get("questions") + ": no questions");
  const auto answers = answer_questions(context, questions, args.has("question-only"));

  std::string lines;
  for (const auto& answer : answers) lines += answer_record(questions->samples[static_cast<size_t>(answer.row)], answer);
  if (auto out = args.get("out")) {
    std::ofstream file(*out, std::ios::binary);
    file << lines;
    if (!file) throw DataError(*out + ": cannot write");
  } else {
    std::cout << lines;
  }
  const Metrics metrics = vqa_metrics(*questions, answers, "vqa/");
  for (const auto& [key, value] : metrics) spdlog::info("{} {:.4f}", key, value);
  spdlog::info("answered {} questions{}", answers.size(), args.has("question-only") ? " with blank images" : "");
  return 0;
}

}  // namespace mmtrain::cli
