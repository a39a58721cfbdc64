// Damaged and crafted variants of every kind of file mmtrain reads from users: cut short at several
// points, with single bits flipped, and with size fields claiming far more than the file holds.
// Each is refused with an error naming the file, or, where the damage leaves a valid file (a
// flipped bit in a caption, a CSV or a tar cut between records), read; never a crash, a hang or a
// huge allocation. Binary formats must refuse every crafted size, and every cut but tar's. The fuzz targets
// (fuzz/, scripts/fuzz.sh) search for more; the whole-file inputs they found are replayed here.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <zlib.h>

#include "mmtrain/config/load_config.h"
#include "mmtrain/data/dataset.h"
#include "mmtrain/data/rng.h"
#include "mmtrain/data/transforms.h"
#include "mmtrain/data/webdataset.h"
#include "mmtrain/io/checkpoint_file.h"
#include "mmtrain/io/safetensors.h"
#include "mmtrain/io/torch_state_dict.h"
#include "mmtrain/text/clip_bpe_tokenizer.h"
#include "support/reference_data.h"
#include "support/tar_writer.h"
#include "support/temp_dir.h"
#include "test_paths.h"

namespace mmtrain {
namespace {

using Read = std::function<void(const std::string& path)>;

struct FileKind {
  std::string name;   // the label in failures, and the files' suffix
  std::string bytes;  // a valid file of this kind, as the tests make them
  Read read;          // as mmtrain reads it; throws to refuse
  bool refuses_cuts;     // every cut must be refused (binary formats but tar, whose members stand alone)
  bool refuses_crafted;  // every crafted variant must be refused (binary formats)
  std::vector<std::pair<std::string, std::string>> crafted;  // (what, bytes)
};

// "" when `read` accepts the file or refuses it naming it; otherwise what went wrong.
std::string misbehaviour(const Read& read, const std::string& path, bool must_refuse) {
  try {
    read(path);
  } catch (const std::exception& error) {
    const std::string message = error.what();
    return message.find(path) == std::string::npos ? "refused without naming the file: " + message : "";
  }
  return must_refuse ? "read without an error" : "";
}

std::string source_file(const std::string& relative) {
  return test::read_bytes(std::string(MMTRAIN_SOURCE_DIR) + "/" + relative);
}

std::string with_bytes_at(std::string bytes, size_t offset, const std::string& patch) {
  bytes.replace(offset, patch.size(), patch);
  return bytes;
}

template <class T>
std::string raw(T value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof(value));
}

// ---- the kinds

void read_checkpoint(const std::string& path) { Checkpoint::load(path).model_tensors(); }

FileKind checkpoint_kind() {
  const std::string bytes = source_file("tests/fixtures/checkpoints/libtorch-1.13.0.ckpt");
  return {"ckpt", bytes, read_checkpoint, true, true,
          {{"payload size 2^60", with_bytes_at(bytes, 16, raw(uint64_t{1} << 60))}}};
}

FileKind safetensors_kind(const test::TempDir& dir) {
  const std::string path = (dir.path() / "valid.safetensors").string();
  write_safetensors(path, {{"a", torch::arange(6, torch::kFloat32).reshape({2, 3})}, {"b", torch::ones({2}, torch::kInt64)}});
  const auto header_of = [](const std::string& json) { return raw(uint64_t{json.size()}) + json; };
  return {"safetensors", test::read_bytes(path), [](const std::string& p) { read_safetensors(p); }, true, true,
          {{"header length 2^60", with_bytes_at(test::read_bytes(path), 0, raw(uint64_t{1} << 60))},
           {"2^68 elements", header_of(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})")},
           {"negative size", header_of(R"({"a":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,0]}})")},
           {"offsets past the end", header_of(R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[18446744073709551615,7]}})")}}};
}

FileKind torch_pickle_kind() {
  return {"pt", source_file("fuzz/corpus/torch_pickle/state_dict.pt"),
          [](const std::string& p) { read_torch_state_dict(p); }, true, true, {}};
}

// A tar member's size field (octal, at 124) set to `octal`, its header checksum made to match.
std::string with_tar_size(std::string tar, const std::string& octal) {
  tar.replace(124, 12, octal + std::string(12 - octal.size(), '\0'));
  tar.replace(148, 8, std::string(8, ' '));
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(tar[i]);
  char field[8];
  std::snprintf(field, sizeof(field), "%06o", sum);
  tar.replace(148, 7, std::string(field, 6) + '\0');
  return tar;
}

// A shard is read as training reads it; a problem reported (naming the shard) is its refusal.
void read_shard(const std::string& path) {
  WebDatasetOptions options;
  options.shards = {path};
  options.shuffle_shards = false;
  std::string refusal;
  options.on_problem = [&](const WdsProblem& problem) {
    if (refusal.empty()) refusal = problem.message;
  };
  WebDatasetStream stream(options);
  stream.start_epoch(0);
  while (stream.next()) {
  }
  if (!refusal.empty()) throw std::runtime_error(refusal);
}

FileKind tar_kind(const test::TempDir& dir) {
  const std::string path = (dir.path() / "valid.tar").string();
  test::write_tar(path, {{"0.jpg", std::string(700, 'j')}, {"0.txt", "a red cup"}, {"1.jpg", std::string(900, 'k')},
                         {"1.txt", "two dogs"}});
  const std::string bytes = test::read_bytes(path);
  return {"tar", bytes, read_shard, false, true, {{"member of 8 GiB", with_tar_size(bytes, "77777777777")}}};
}

std::string encoded_image(const char* extension) {
  cv::Mat image(12, 16, CV_8UC3, cv::Scalar(40, 30, 200));
  std::vector<uchar> bytes;
  cv::imencode(extension, image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

void read_image(const std::string& path) { read_rgb_image(path, int64_t{1} << 24); }

FileKind png_kind() {
  const std::string bytes = encoded_image(".png");
  return {"png", bytes, read_image, true, true,
          {{"2^31 x 2^31 pixels", with_bytes_at(bytes, 16, std::string("\x7f\xff\xff\xff\x7f\xff\xff\xff", 8))}}};
}

FileKind jpeg_kind() { return {"jpg", encoded_image(".jpg"), read_image, true, true, {}}; }

std::string deep_json(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

FileKind csv_kind() {
  return {"tsv", "filepath\ttitle\na.png\ta red cup\n\"b.png\"\t\"two \"\"dogs\"\"\"\n",
          [](const std::string& p) { read_pair_csv(p, "filepath", "title", '\t'); }, false, false,
          {{"a 4 MB caption", "filepath\ttitle\na.png\t" + std::string(4 << 20, 'x') + "\n"},
           {"an unclosed quote", "filepath\ttitle\na.png\t\"" + std::string(1000, 'x')},
           {"NUL bytes", std::string("filepath\ttitle\na\0.png\tcup\n", 27)}}};
}

FileKind episodes_kind() {
  PairSourceConfig config;
  config.type = "episodes";
  return {"jsonl",
          R"({"episode": 0, "step": 0, "image": "a.png", "instruction": "pick up the red cup", "state": [0.5, 0.5, 0, 0], "action": [0.1, 0, 0]})"
          "\n"
          R"({"episode": 0, "step": 1, "image": "b.png", "instruction": "pick up the red cup", "state": [0.6, 0.5, 0, 0], "action": [0, 0, 1]})"
          "\n",
          [config](const std::string& p) mutable {
            config.path = p;
            read_episodes(config);
          },
          false, false,
          {{"nesting a million deep", deep_json(1000000) + "\n"},
           {"a number beyond double", R"({"episode": 0, "step": 0, "image": "a.png", "instruction": "x", "state": [1e400], "action": [0]})"}}};
}

FileKind coco_kind() {
  return {"json", R"({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "caption": "a cup"}]})",
          [](const std::string& p) { read_coco_captions(p, "/images"); }, false, false,
          {{"nesting a million deep", deep_json(1000000)},
           {"an image id beyond int64", R"({"images": [{"id": 1e30, "file_name": "a.jpg"}], "annotations": []})"}}};
}

FileKind vqa_v2_kind() {
  return {"vqa", source_file("tests/fixtures/vqa_v2/v2_OpenEnded_mscoco_val2014_questions.json"),
          [](const std::string& p) {
            PairSourceConfig config;
            config.type = "vqa_v2";
            config.path = p;
            read_vqa_v2(config);
          },
          false, false, {{"nesting a million deep", deep_json(1000000)}}};
}

std::string alias_bomb() {
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 9; ++level) {
    yaml += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) yaml += (i ? ", *a" : "*a") + std::to_string(level - 1);
    yaml += "]\n";
  }
  return yaml;
}

FileKind yaml_kind() {
  return {"yaml", source_file("configs/default.yaml"), [](const std::string& p) { load_config(p); }, false, false,
          {{"flow sequences 100000 deep", "train: " + deep_json(100000) + "\n"}, {"an alias bomb", alias_bomb()}}};
}

// ---- the tests

class HostileFiles : public ::testing::Test {
 protected:
  std::vector<FileKind> kinds() const {
    return {checkpoint_kind(), safetensors_kind(dir_), torch_pickle_kind(), tar_kind(dir_), png_kind(), jpeg_kind(),
            csv_kind(), episodes_kind(), coco_kind(), vqa_v2_kind(), yaml_kind()};
  }
  std::string write(const FileKind& kind, const std::string& what, const std::string& bytes) const {
    std::string name = kind.name + "-" + what + "." + kind.name;
    for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
    return dir_.write(name, bytes);
  }
  void expect_cuts_survived(const FileKind& kind) const {
    const size_t size = kind.bytes.size();
    for (const size_t cut : {size_t{0}, size_t{1}, size / 4, size / 2, 3 * size / 4, size - 1}) {
      const std::string path = write(kind, "cut" + std::to_string(cut), kind.bytes.substr(0, cut));
      EXPECT_EQ(misbehaviour(kind.read, path, kind.refuses_cuts), "") << kind.name << " cut to " << cut << " bytes";
    }
  }
  void expect_flips_survived(const FileKind& kind) const {
    SplitMix64 rng(7);
    for (int flip = 0; flip < 12; ++flip) {
      std::string bytes = kind.bytes;
      const size_t bit = rng.next() % (bytes.size() * 8);
      bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
      const std::string path = write(kind, "bit" + std::to_string(bit), bytes);
      EXPECT_EQ(misbehaviour(kind.read, path, false), "") << kind.name << " with bit " << bit << " flipped";
    }
  }
  void expect_crafted_refused(const FileKind& kind) const {
    for (const auto& [what, bytes] : kind.crafted) {
      const std::string path = write(kind, what, bytes);
      EXPECT_EQ(misbehaviour(kind.read, path, kind.refuses_crafted), "") << kind.name << ": " << what;
    }
  }
  test::TempDir dir_;
};

TEST_F(HostileFiles, EveryKindReadsItsValidFile) {
  for (const FileKind& kind : kinds()) {
    const std::string path = write(kind, "valid", kind.bytes);
    EXPECT_NO_THROW(kind.read(path)) << kind.name;
  }
}

TEST_F(HostileFiles, CutsAreRefusedNamingTheFileOrReadAsShorterTextFiles) {
  for (const FileKind& kind : kinds()) expect_cuts_survived(kind);
}

TEST_F(HostileFiles, FlippedBitsAreRefusedNamingTheFileOrRead) {
  for (const FileKind& kind : kinds()) expect_flips_survived(kind);
}

TEST_F(HostileFiles, CraftedSizesAreRefusedBeforeAnythingIsAllocated) {
  for (const FileKind& kind : kinds()) expect_crafted_refused(kind);
}

// CLIP's vocabulary (reference data): cut, flipped, and a gzip bomb unpacking to 65 MB of zeros.
TEST_F(HostileFiles, ClipVocabulariesToo) {
  MMTRAIN_REQUIRE_REFERENCE_DATA("bpe_simple_vocab_16e6.txt.gz");
  const std::string bomb = (dir_.path() / "bomb.gz").string();
  gzFile out = gzopen(bomb.c_str(), "wb9");
  const std::string zeros(1 << 20, '\0');
  for (int i = 0; i < 65; ++i) gzwrite(out, zeros.data(), static_cast<unsigned>(zeros.size()));
  gzclose(out);
  const FileKind kind{"gz", test::read_bytes(test::reference_data("bpe_simple_vocab_16e6.txt.gz")),
                      [](const std::string& p) { load_clip_bpe_file(p); }, true, true,
                      {{"a gzip bomb", test::read_bytes(bomb)}}};
  EXPECT_NO_THROW(kind.read(write(kind, "valid", kind.bytes)));
  expect_cuts_survived(kind);
  expect_flips_survived(kind);
  expect_crafted_refused(kind);
  try {
    load_clip_bpe_file(bomb);
    ADD_FAILURE() << "the gzip bomb was read";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("more than 64 MB unpacked"), std::string::npos) << error.what();
  }
}

// What the fuzz targets found, for the targets whose input is the whole file, refused as fixed.
TEST_F(HostileFiles, FuzzFindingsStayRefused) {
  const std::vector<std::pair<std::string, Read>> targets = {
      {"checkpoint", read_checkpoint},
      {"image", read_image},
      {"safetensors", [](const std::string& p) { read_safetensors(p); }}};
  int replayed = 0;
  for (const auto& [target, read] : targets) {
    const auto folder = std::filesystem::path(MMTRAIN_SOURCE_DIR) / "fuzz" / "regressions" / target;
    if (!std::filesystem::is_directory(folder)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      EXPECT_EQ(misbehaviour(read, entry.path().string(), true), "") << entry.path();
      ++replayed;
    }
  }
  EXPECT_GE(replayed, 4);
}

}  // namespace
}  // namespace mmtrain
