// JSON lines: image-caption pairs, question-answer rows and robot episodes.
#include "fuzz_input.h"
#include "mmtrain/data/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mmtrain::fuzz::InputFile file(".jsonl");
  const unsigned mode = mmtrain::fuzz::take_mode(data, size, 3);
  mmtrain::PairSourceConfig config;
  config.path = file.write(data, size);
  config.image_key = "image";
  mmtrain::fuzz::expect_clear_refusal(config.path, [&] {
    switch (mode) {
      case 0: mmtrain::read_pair_jsonl(config.path, "image", "caption"); break;
      case 1: mmtrain::read_vqa_jsonl(config); break;
      default: mmtrain::read_episodes(config); break;
    }
  });
  return 0;
}
