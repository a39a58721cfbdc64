#include "mmtrain/io/torch_state_dict.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mmtrain/io/safetensors.h"
#include "support/pickle_archive.h"
#include "support/reference_data.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

using namespace std::string_literals;

std::vector<std::string> keys_of(const TensorMap& tensors) {
  std::vector<std::string> keys;
  for (const auto& entry : tensors) keys.push_back(entry.first);
  return keys;
}

void expect_tensor(const TensorMap& tensors, const std::string& name, const torch::Tensor& expected) {
  const auto found = tensors.find(name);
  ASSERT_TRUE(found != tensors.end()) << "no tensor '" << name << "'";
  const torch::Tensor& actual = found->second;
  ASSERT_EQ(actual.scalar_type(), expected.scalar_type()) << name;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << name;
  EXPECT_TRUE(actual.is_contiguous()) << name;
  EXPECT_TRUE(torch::equal(actual, expected)) << name << ":\n" << actual << "\nexpected:\n" << expected;
}

std::string error_of(const std::string& path) {
  try {
    read_torch_state_dict(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

TEST(TorchStateDict, ReadsOpenClipsModelPtLikeItsSafetensors) {
  MMTRAIN_REQUIRE_REFERENCE_DATA("openclip_golden");
  const std::filesystem::path folder = test::reference_data("openclip_golden");
  const auto from_pt = read_torch_state_dict((folder / "model.pt").string());
  const auto from_safetensors = read_safetensors((folder / "model.safetensors").string());
  ASSERT_FALSE(from_pt.empty());
  ASSERT_EQ(keys_of(from_pt), keys_of(from_safetensors));
  for (const auto& [name, expected] : from_safetensors) expect_tensor(from_pt, name, expected);
}

TEST(TorchStateDict, RefusesMissingAndNonZipFilesNamingThem) {
  test::TempDir dir;
  const auto missing = (dir.path() / "missing.pt").string();
  EXPECT_EQ(error_of(missing), missing + ": cannot open");
  const auto text = dir.write("text.pt", "not a checkpoint");
  EXPECT_EQ(error_of(text), text + ": not a torch.save zip archive");
}

// Hostile pickles, written byte by byte into torch.save's archive layout.
class HostilePickle : public ::testing::Test {
 protected:
  std::string archive(const std::string& name, const std::string& pickle) {
    const std::string path = (dir_.path() / name).string();
    test::write_pickle_archive(path, pickle);
    return path;
  }
  test::TempDir dir_;
};

TEST_F(HostilePickle, RefusesACallToOsSystemNamingTheGlobalBeforeAnyCall) {
  // pickle.dumps of a __reduce__ returning (os.system, ('touch pwned',)), protocol 2.
  const std::string pickle = "\x80\x02" "cposix\nsystem\nq\x00X\x0b\x00\x00\x00" "touch pwnedq\x01\x85q\x02Rq\x03."s;
  const auto file = archive("system.pt", pickle);
  EXPECT_EQ(error_of(file), file + ": data.pkl: opcode 0x63 ('c') at offset 2: the global posix.system is not one "
                                   "that torch.save checkpoints use; refusing the file");
  EXPECT_FALSE(std::filesystem::exists("touch pwned"));
  // The same through STACK_GLOBAL (protocol 4), the form pickle's newer protocols write.
  const std::string stacked = "\x80\x04\x8c\x08" "builtins" "\x8c\x04" "eval" "\x93."s;
  const auto file4 = archive("eval.pt", stacked);
  EXPECT_TRUE(starts_with(error_of(file4), file4 + ": data.pkl: opcode 0x93 at offset 18: the global builtins.eval"))
      << error_of(file4);
}

TEST_F(HostilePickle, RefusesListsNestedAMillionDeepWithoutOverflowingTheStack) {
  // EMPTY_LIST a million times, then APPEND each into the one below: one list inside the other.
  constexpr int kDepth = 1000000;
  const std::string pickle = "\x80\x02" + std::string(kDepth, ']') + std::string(kDepth - 1, 'a') + ".";
  const auto file = archive("deep.pt", pickle);
  EXPECT_EQ(error_of(file), file + ": the saved object: expected a dict, got a list");
}

TEST_F(HostilePickle, RefusesADictThatHoldsItselfThroughTheMemo) {
  // EMPTY_DICT, BINPUT 0, 'k', BINGET 0, SETITEM: {'k': <itself>}. Its entry is not a tensor.
  const std::string pickle = "\x80\x02}q\x00X\x01\x00\x00\x00kh\x00s."s;
  const auto file = archive("cycle.pt", pickle);
  EXPECT_EQ(error_of(file), file + ": state dict entry 'k': expected a tensor, got a dict");
}

// The files below are made by Debian's python3-torch, the writer this reader must agree with.
class TorchStateDictFromPython : public ::testing::Test {
 protected:
  void SetUp() override {
    static const bool available = std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
    if (!available) GTEST_SKIP() << "/usr/bin/python3 with torch (Debian's python3-torch) is not installed";
  }

  // Runs `script` with the temp dir as sys.argv[1]; its output only matters when it fails.
  ::testing::AssertionResult run_python(const std::string& script) {
    const std::string script_path = dir_.write("make.py", "import sys\nout = sys.argv[1]\n" + script);
    const std::string log = (dir_.path() / "python.log").string();
    const std::string command = "/usr/bin/python3 " + script_path + " " + dir_.path().string() + " >" + log + " 2>&1";
    if (std::system(command.c_str()) == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "python failed:\n" << test::read_bytes(log);
  }

  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

  test::TempDir dir_;
};

TEST_F(TorchStateDictFromPython, ReadsEveryDtypeViewsAndSharedStoragesWithPickleProtocols2And4) {
  ASSERT_TRUE(run_python(R"(
import collections, torch
shared = torch.arange(24, dtype=torch.float32)
sd = collections.OrderedDict()
sd['half'] = torch.tensor([1.5, -2.25, 65504.0], dtype=torch.float16)
sd['bfloat16'] = torch.tensor([1.0, -3.5], dtype=torch.bfloat16)
sd['double'] = torch.tensor([0.1, -1e300], dtype=torch.float64)
sd['long'] = torch.tensor([-(2**40), 0, 2**62], dtype=torch.int64)
sd['int'] = torch.tensor([-7, 2**31 - 1], dtype=torch.int32)
sd['short'] = torch.tensor([-300, 300], dtype=torch.int16)
sd['char'] = torch.tensor([-128, 127], dtype=torch.int8)
sd['byte'] = torch.tensor([0, 255], dtype=torch.uint8)
sd['bool'] = torch.tensor([True, False, True])
sd['transposed'] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()
sd['shared'] = shared
sd['view'] = shared[5:17].view(3, 4)
sd['scalar'] = torch.tensor(2.5)
sd['empty'] = torch.zeros(0, 4)
sd['parameter'] = torch.nn.Parameter(torch.ones(2, 2))
sd._metadata = {'': {'version': 1}}
torch.save(sd, out + '/p2.pt')
torch.save(sd, out + '/p4.pt', pickle_protocol=4)
)"));
  for (const char* file : {"p2.pt", "p4.pt"}) {
    SCOPED_TRACE(file);
    const auto tensors = read_torch_state_dict(path(file));
    EXPECT_EQ(tensors.size(), 15u);
    expect_tensor(tensors, "half", torch::tensor({1.5, -2.25, 65504.0}, torch::kFloat16));
    expect_tensor(tensors, "bfloat16", torch::tensor({1.0, -3.5}, torch::kBFloat16));
    expect_tensor(tensors, "double", torch::tensor({0.1, -1e300}, torch::kFloat64));
    expect_tensor(tensors, "long", torch::tensor({-(int64_t{1} << 40), int64_t{0}, int64_t{1} << 62}, torch::kInt64));
    expect_tensor(tensors, "int", torch::tensor({-7, 2147483647}, torch::kInt32));
    expect_tensor(tensors, "short", torch::tensor({-300, 300}, torch::kInt16));
    expect_tensor(tensors, "char", torch::tensor({-128, 127}, torch::kInt8));
    expect_tensor(tensors, "byte", torch::tensor({0, 255}, torch::kUInt8));
    expect_tensor(tensors, "bool", torch::tensor({true, false, true}));
    expect_tensor(tensors, "transposed", torch::arange(6, torch::kFloat32).reshape({2, 3}).t());
    expect_tensor(tensors, "shared", torch::arange(24, torch::kFloat32));
    expect_tensor(tensors, "view", torch::arange(5, 17, torch::kFloat32).view({3, 4}));
    expect_tensor(tensors, "scalar", torch::tensor(2.5f));
    expect_tensor(tensors, "empty", torch::zeros({0, 4}));
    expect_tensor(tensors, "parameter", torch::ones({2, 2}));
  }
}

TEST_F(TorchStateDictFromPython, UsesTheStateDictInsideATrainingCheckpoint) {
  ASSERT_TRUE(run_python(R"(
import argparse, torch
model = torch.nn.Linear(3, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
model(torch.ones(1, 3)).sum().backward()
optimizer.step()
with torch.no_grad():
    model.weight.copy_(torch.arange(6.0).reshape(2, 3))
    model.bias.fill_(-1)
checkpoint = {'epoch': 3, 'best': 0.25, 'wide_int': 2**70, 'tags': {'a', 'b'},
              'args': argparse.Namespace(lr=0.1, name='run'),
              'state_dict': model.state_dict(), 'optimizer': optimizer.state_dict()}
torch.save(checkpoint, out + '/checkpoint.pt')
)"));
  const auto tensors = read_torch_state_dict(path("checkpoint.pt"));
  EXPECT_EQ(keys_of(tensors), (std::vector<std::string>{"bias", "weight"}));
  expect_tensor(tensors, "weight", torch::arange(6, torch::kFloat32).reshape({2, 3}));
  expect_tensor(tensors, "bias", torch::full({2}, -1.0f));
}

TEST_F(TorchStateDictFromPython, RefusesTorchScriptArchivesSayingHowToConvert) {
  ASSERT_TRUE(run_python("import torch\ntorch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), out + '/script.pt')\n"));
  const auto file = path("script.pt");
  EXPECT_EQ(error_of(file), file +
                                ": a TorchScript archive (e.g. OpenAI's original CLIP .pt); convert it to a state_dict "
                                "in Python with torch.jit.load(path).state_dict() and torch.save, or use the "
                                ".safetensors weights");
}

TEST_F(TorchStateDictFromPython, RefusesLegacyFilesNamingTheFormat) {
  ASSERT_TRUE(run_python(
      "import torch\ntorch.save({'w': torch.ones(2)}, out + '/legacy.pt', _use_new_zipfile_serialization=False)\n"));
  const auto file = path("legacy.pt");
  EXPECT_TRUE(starts_with(error_of(file), file + ": a legacy (non-zip) torch.save file")) << error_of(file);
}

TEST_F(TorchStateDictFromPython, RefusesATruncatedFile) {
  ASSERT_TRUE(run_python("import torch\ntorch.save({'w': torch.arange(1000.0)}, out + '/whole.pt')\n"));
  const std::string bytes = test::read_bytes(path("whole.pt"));
  const auto file = dir_.write("truncated.pt", bytes.substr(0, bytes.size() / 2));
  const std::string error = error_of(file);
  EXPECT_TRUE(starts_with(error, file + ": cannot read it as a zip archive (truncated?)")) << error;
}

TEST_F(TorchStateDictFromPython, NamesAnEntryThatIsNotATensor) {
  ASSERT_TRUE(run_python("import torch\ntorch.save({'w': torch.ones(2), 'step': 7}, out + '/mixed.pt')\n"));
  const auto file = path("mixed.pt");
  EXPECT_EQ(error_of(file), file + ": state dict entry 'step': expected a tensor, got an int");
}

TEST_F(TorchStateDictFromPython, NamesAnUnknownOpcodeAndItsOffset) {
  // zipfile alone builds the archive, so the pickle can hold a byte torch.save never writes.
  ASSERT_TRUE(run_python(R"(
import zipfile
with zipfile.ZipFile(out + '/bad.pt', 'w') as archive:
    archive.writestr('archive/version', '3\n')
    archive.writestr('archive/data.pkl', b'\x80\x02}q\x00\xff.')
)"));
  const auto file = path("bad.pt");
  const std::string error = error_of(file);
  EXPECT_TRUE(starts_with(error, file + ": data.pkl: opcode 0xff at offset 5: ")) << error;
}

}  // namespace
}  // namespace mmtrain
