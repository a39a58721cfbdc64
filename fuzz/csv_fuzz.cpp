// CSV and TSV: the table parser and the readers built on it (image-caption pairs, labelled images).
#include "fuzz_input.h"
#include "mmtrain/data/csv.h"
#include "mmtrain/data/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mmtrain::fuzz::InputFile file(".csv");
  const unsigned mode = mmtrain::fuzz::take_mode(data, size, 4);
  const std::string& path = file.write(data, size);
  mmtrain::fuzz::expect_clear_refusal(path, [&] {
    switch (mode) {
      case 0: mmtrain::read_pair_csv(path, "filepath", "title", '\t'); break;
      case 1: mmtrain::read_pair_csv(path, "filepath", "title,alt", ','); break;
      case 2: mmtrain::read_labelled_csv(path, "filepath", "label", ','); break;
      default: mmtrain::read_image_csv(path, "filepath", '\t'); break;
    }
  });
  return 0;
}
