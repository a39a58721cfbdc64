// PyTorch `.pt`/`.bin` weights as `torch.save(model.state_dict())` writes them: a zip archive
// holding a pickled dict of name -> tensor plus one record per storage. LibTorch's own C++
// unpickler turns `collections.OrderedDict` into None, so this reads the pickle itself.
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

namespace mmtrain {

// Accepts a plain state dict or a training checkpoint whose top-level dict holds "state_dict".
// Tensors come back contiguous, on the CPU, each owning its memory. Refuses TorchScript archives,
// legacy (pre-zip) torch.save files and anything malformed with a std::runtime_error that names
// the file.
std::map<std::string, torch::Tensor> read_torch_state_dict(const std::string& path);

}  // namespace mmtrain
