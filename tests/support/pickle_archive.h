// torch.save's layout written from C++ around a pickle of one's own (caffe2's PyTorchStreamWriter,
// the writer torch.save itself uses): data.pkl, byteorder and storages data/0, data/1, ... For
// tests and the pickle fuzz target, which need pickles torch.save would never write.
#pragma once

#include <string>
#include <vector>

#include <caffe2/serialize/inline_container.h>

namespace mmtrain::test {

inline void write_pickle_archive(const std::string& path, const std::string& pickle,
                                 const std::vector<std::string>& storages = {}) {
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  writer.writeRecord("byteorder", "little", 6);
  for (size_t i = 0; i < storages.size(); ++i) {
    writer.writeRecord("data/" + std::to_string(i), storages[i].data(), storages[i].size());
  }
  writer.writeEndOfFile();
}

}  // namespace mmtrain::test
