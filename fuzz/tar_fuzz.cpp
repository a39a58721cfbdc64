// A WebDataset shard: libarchive's tar reading and mmtrain's grouping of entries into samples.
// A damaged shard is not an exception here: it is reported through on_problem, and that report
// must name the shard too.
#include <cstdio>

#include "fuzz_input.h"
#include "mmtrain/data/webdataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mmtrain::fuzz::InputFile file(".tar");
  const unsigned mode = mmtrain::fuzz::take_mode(data, size, 2);
  mmtrain::WebDatasetOptions options;
  options.shards = {file.write(data, size)};
  options.shuffle_shards = false;
  options.shuffle_buffer = mode == 0 ? 0 : 4;
  options.on_problem = [&](const mmtrain::WdsProblem& problem) {
    if (problem.message.find(options.shards[0]) == std::string::npos) {
      std::fprintf(stderr, "finding: the problem report does not name the shard: %s\n", problem.message.c_str());
      std::abort();
    }
  };
  mmtrain::fuzz::expect_clear_refusal(options.shards[0], [&] {
    mmtrain::WebDatasetStream stream(options);
    // Mode 1 also resumes mid-epoch, which reads entry names only, then bytes again.
    stream.start_epoch(0, mode == 0 ? 0 : 1);
    while (stream.next()) {
    }
  });
  return 0;
}
