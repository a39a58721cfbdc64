#include "mmtrain/io/pickle_lengths.h"

#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "test_paths.h"

namespace mmtrain {
namespace {

using namespace std::string_literals;

std::string error_of(const std::string& pickle) {
  try {
    check_pickle_lengths(pickle, "data.pkl");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PickleLengths, AcceptsWhatTorchSaveWrites) {
  for (const char* seed : {"state_dict.pkl", "checkpoint.pkl"}) {
    const std::string pickle = test::read_bytes(std::string(MMTRAIN_SOURCE_DIR) + "/fuzz/corpus/torch_pickle/" + seed);
    EXPECT_EQ(error_of(pickle), "(no error)") << seed;
  }
}

TEST(PickleLengths, RefusesAStringLongerThanWhatRemains) {
  // BINUNICODE claiming 2^31 bytes, with 3 present.
  EXPECT_EQ(error_of("\x80\x02X\x00\x00\x00\x80" "abc."s),
            "data.pkl: opcode 0x58 at offset 2: its argument claims 2147483648 bytes, more than remain");
  // BINBYTES8's 8-byte length itself cut short.
  EXPECT_EQ(error_of("\x80\x04\x8e\x01\x00"s), "data.pkl: opcode 0x8e at offset 2: its length runs past the end");
}

TEST(PickleLengths, RefusesAMemoIndexNoPicklerWouldWrite) {
  // EMPTY_DICT, LONG_BINPUT 0x7c8000b1: LibTorch would reserve a 66 GB memo table for it.
  EXPECT_EQ(error_of("\x80\x02}r\xb1\x00\x80\x7c."s),
            "data.pkl: opcode 0x72 at offset 3: a memo index beyond anything the pickle could have stored");
  EXPECT_EQ(error_of("\x80\x02}r\x00\x00\x00\x00."s), "(no error)");
}

TEST(PickleLengths, RefusesUnknownOpcodesUnterminatedLinesAndAMissingStop) {
  EXPECT_EQ(error_of("\x80\x02\xff."s), "data.pkl: opcode 0xff at offset 2: not a pickle opcode");
  EXPECT_EQ(error_of("\x80\x02" "cos\nsystem"s), "data.pkl: opcode 0x63 at offset 2: its line runs past the end");
  EXPECT_EQ(error_of("\x80\x02}"s), "data.pkl: ends before its STOP opcode");
}

}  // namespace
}  // namespace mmtrain
