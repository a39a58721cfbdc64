// COCO captions JSON, and VQA v2's questions and annotations JSON (the input's two halves, split at
// its first NUL byte).
#include <cstring>

#include "fuzz_input.h"
#include "mmtrain/data/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mmtrain::fuzz::InputFile captions(".json");
  static mmtrain::fuzz::InputFile annotations("-annotations.json");
  const unsigned mode = mmtrain::fuzz::take_mode(data, size, 2);
  if (mode == 0) {
    const std::string& path = captions.write(data, size);
    mmtrain::fuzz::expect_clear_refusal(path, [&] { mmtrain::read_coco_captions(path, "/images"); });
    return 0;
  }
  const auto* split = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t first = split ? static_cast<size_t>(split - data) : size;
  mmtrain::PairSourceConfig config;
  config.type = "vqa_v2";
  config.path = captions.write(data, first);
  if (split) config.annotations = annotations.write(split + 1, size - first - 1);
  config.image_root = "/images";
  // Either file may be the one refused; both paths share the prefix the message must name.
  const std::string shared = config.path.substr(0, config.path.size() - std::strlen(".json"));
  mmtrain::fuzz::expect_clear_refusal(shared, [&] { mmtrain::read_vqa_v2(config); });
  return 0;
}
