#include <fstream>
#include <iostream>

#include <spdlog/spdlog.h>

#include "args.h"
#include "commands.h"
#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "mmtrain/text/sentencepiece_tokenizer.h"

namespace mmtrain::cli {

namespace {

int run_tokenizer_train(int argc, char** argv) {
  Args args("mmtrain tokenizer train --captions FILE --vocab-size N --out FILE.model [--seed S] [--model-type T]",
            "Trains a SentencePiece model (pad 0, unk 1, bos 2, eos 3) on a file of captions, one per line.",
            {{"captions", "", "FILE", "one caption per line"},
             {"vocab-size", "", "N", "vocabulary size (may come out smaller on few captions)"},
             {"out", "", "FILE.model", "where to write the model"},
             {"seed", "", "S", "random seed (default 0)"},
             {"model-type", "", "T", "unigram (default), bpe, word or char"}});
  if (!args.parse(argc, argv)) return 0;
  const auto vocab_size = static_cast<int>(parse_count("--vocab-size", args.require("vocab-size")));
  const auto seed = static_cast<uint64_t>(parse_count("--seed", args.get("seed").value_or("0")));
  const auto captions = read_lines(args.require("captions"));
  const std::string model = train_sentencepiece(captions, vocab_size, seed, args.get("model-type").value_or("unigram"));
  const std::string out = args.require("out");
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file << model;
  if (!file) throw std::runtime_error(out + ": cannot write");
  spdlog::info("tokenizer trained on {} captions written to {}", captions.size(), out);
  return 0;
}

}  // namespace

int run_tokenizer(int argc, char** argv) {
  if (argc >= 1 && std::string(argv[0]) == "train") return run_tokenizer_train(argc - 1, argv + 1);
  std::cerr << "usage: mmtrain tokenizer train --captions FILE --vocab-size N --out FILE.model\n";
  return argc >= 1 && (std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h") ? 0 : 2;
}

}  // namespace mmtrain::cli
