#include "mmtrain/data/webdataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "mmtrain/errors.h"
#include "support/tar_writer.h"
#include "support/error_message.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

using test::TarEntry;
using test::write_tar;

using Names = std::vector<std::string>;

// Bytes that would break any text handling: NULs and high bytes, distinct per key.
std::string image_bytes(const std::string& key, size_t size = 100) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<char>((i * 131 + key.size() * 7 + key.back()) % 256);
  }
  return bytes;
}

// A shard of `count` jpg/txt pairs keyed "<prefix>_<i>"; captions are "caption of <key>".
std::vector<TarEntry> pairs(const std::string& prefix, int count, size_t image_size = 100) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < count; ++i) {
    const std::string key = prefix + "_" + std::to_string(i);
    entries.push_back({key + ".jpg", image_bytes(key, image_size)});
    entries.push_back({key + ".txt", "caption of " + key});
  }
  return entries;
}

class WebDatasetTest : public ::testing::Test {
 protected:
  std::string shard(const std::string& name, const std::vector<TarEntry>& entries,
                    bool gzip = false) {
    const std::string path = (dir_.path() / name).string();
    write_tar(path, entries, gzip);
    return path;
  }

  // Options reading `shards` in the given order, unshuffled, collecting problems.
  WebDatasetOptions options(const Names& shards) {
    WebDatasetOptions o;
    o.shards = shards;
    o.shuffle_shards = false;
    o.shuffle_buffer = 0;
    o.on_problem = [this](const WdsProblem& problem) { problems_.push_back(problem); };
    return o;
  }

  test::TempDir dir_;
  std::vector<WdsProblem> problems_;
};

std::vector<WdsSample> read_all(WebDatasetStream& stream) {
  std::vector<WdsSample> samples;
  while (std::optional<WdsSample> sample = stream.next()) samples.push_back(std::move(*sample));
  return samples;
}

std::vector<WdsSample> read_epoch(const WebDatasetOptions& options, int64_t epoch,
                                  int64_t skip = 0) {
  WebDatasetStream stream(options);
  stream.start_epoch(epoch, skip);
  return read_all(stream);
}

Names keys_of(const std::vector<WdsSample>& samples) {
  Names keys;
  for (const WdsSample& sample : samples) keys.push_back(sample.key);
  return keys;
}

Names sorted(Names names) {
  std::sort(names.begin(), names.end());
  return names;
}

// ---- shard patterns --------------------------------------------------------------------------

TEST(ExpandShardPattern, ZeroPaddedRangeKeepsItsWidth) {
  EXPECT_EQ(
      expand_shard_pattern("shards/{000008..000011}.tar"),
      (Names{"shards/000008.tar", "shards/000009.tar", "shards/000010.tar", "shards/000011.tar"}));
}

TEST(ExpandShardPattern, UnpaddedRangeIsNotPadded) {
  EXPECT_EQ(expand_shard_pattern("{8..11}.tar"), (Names{"8.tar", "9.tar", "10.tar", "11.tar"}));
}

TEST(ExpandShardPattern, CommaListsAndSeveralBracesCombineFirstBraceSlowest) {
  EXPECT_EQ(expand_shard_pattern("{train,val}/{0..1}.tar"),
            (Names{"train/0.tar", "train/1.tar", "val/0.tar", "val/1.tar"}));
}

TEST(ExpandShardPattern, ListItemsMayHoldBraces) {
  EXPECT_EQ(expand_shard_pattern("{a{1..2},b}.tar"), (Names{"a1.tar", "a2.tar", "b.tar"}));
}

TEST(ExpandShardPattern, DoubleColonJoinsPatterns) {
  EXPECT_EQ(expand_shard_pattern("x.tar::y/{1..2}.tar"), (Names{"x.tar", "y/1.tar", "y/2.tar"}));
}

TEST(ExpandShardPattern, PatternWithoutBracesIsItsOwnName) {
  EXPECT_EQ(expand_shard_pattern("/data/shard.tar"), (Names{"/data/shard.tar"}));
}

TEST(ExpandShardPattern, UnclosedBraceIsAConfigErrorNamingThePattern) {
  const std::string message = test::error_message<ConfigError>([] { expand_shard_pattern("s/{000..009.tar"); });
  EXPECT_NE(message.find("s/{000..009.tar"), std::string::npos) << message;
  EXPECT_NE(message.find("unclosed"), std::string::npos) << message;
  EXPECT_NE(message.find("expected"), std::string::npos) << message;
}

TEST(ExpandShardPattern, DescendingRangeIsAConfigError) {
  const std::string message = test::error_message<ConfigError>([] { expand_shard_pattern("{9..1}.tar"); });
  EXPECT_NE(message.find("descends"), std::string::npos) << message;
}

TEST(ExpandShardPattern, RangeOfMoreThanTenMillionNamesIsAConfigError) {
  const std::string message =
      test::error_message<ConfigError>([] { expand_shard_pattern("{0..10000000}.tar"); });
  EXPECT_NE(message.find("more than 10000000"), std::string::npos) << message;
  test::error_message<ConfigError>([] { expand_shard_pattern("{0..9999}/{0..9999}.tar"); });
}

TEST(ExpandShardPattern, GroupThatIsNeitherListNorRangeIsAConfigError) {
  test::error_message<ConfigError>([] { expand_shard_pattern("{abc}.tar"); });
  test::error_message<ConfigError>([] { expand_shard_pattern("{}.tar"); });
  test::error_message<ConfigError>([] { expand_shard_pattern("a}.tar"); });
  test::error_message<ConfigError>([] { expand_shard_pattern("a.tar::"); });
}

// ---- reading shards --------------------------------------------------------------------------

TEST_F(WebDatasetTest, YieldsPairedSamplesInTarOrderWithTheirCaptionsAndBytes) {
  const std::string path = shard("0.tar", pairs("s", 3));
  const std::vector<WdsSample> samples = read_epoch(options({path}), 0);
  ASSERT_EQ(samples.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const std::string key = "s_" + std::to_string(i);
    EXPECT_EQ(samples[i].key, key);
    EXPECT_EQ(samples[i].shard, path);
    EXPECT_EQ(samples[i].image_ext, "jpg");
    EXPECT_EQ(samples[i].image_bytes, image_bytes(key));
    EXPECT_EQ(samples[i].caption, "caption of " + key);
    EXPECT_EQ(samples[i].index_in_shard, i);
  }
  EXPECT_TRUE(problems_.empty());
}

TEST_F(WebDatasetTest, CaptionMayComeBeforeTheImageAndExtraEntriesAreIgnored) {
  const std::string path =
      shard("0.tar", {{"a.json", "{}"}, {"a.txt", "cap"}, {"a.png", "PNG"}, {"a.cls", "3"}});
  const std::vector<WdsSample> samples = read_epoch(options({path}), 0);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].image_ext, "png");
  EXPECT_EQ(samples[0].image_bytes, "PNG");
  EXPECT_EQ(samples[0].caption, "cap");
  EXPECT_TRUE(problems_.empty());
}

TEST_F(WebDatasetTest, ImageExtensionsMatchInAnyCase) {
  const std::string path =
      shard("0.tar", {{"a.JPEG", "x"}, {"a.TXT", "cap"}, {"b.WebP", "y"}, {"b.txt", "cap"}});
  const std::vector<WdsSample> samples = read_epoch(options({path}), 0);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].image_ext, "jpeg");
  EXPECT_EQ(samples[1].image_ext, "webp");
}

TEST_F(WebDatasetTest, ImageAndCaptionExtensionsAreConfigurable) {
  const std::string path =
      shard("0.tar", {{"a.tif", "x"}, {"a.caption", "cap"}, {"b.jpg", "y"}, {"b.caption", "c"}});
  WebDatasetOptions o = options({path});
  o.image_exts = {"tif"};
  o.caption_ext = "caption";
  const std::vector<WdsSample> samples = read_epoch(o, 0);
  EXPECT_EQ(keys_of(samples), (Names{"a"}));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].key, "b");
}

TEST_F(WebDatasetTest, NestedDirectoryKeysEndAtTheFirstDotOfTheFileName) {
  const std::string path = shard("0.tar", {{"train.v2/part1/000001.jpg", "x"},
                                           {"train.v2/part1/000001.txt", "one"},
                                           {"a.jpg", "y"},
                                           {"a.b.seg.txt", "not the caption"}});
  const std::vector<WdsSample> samples = read_epoch(options({path}), 0);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].key, "train.v2/part1/000001");
  EXPECT_EQ(samples[0].caption, "one");
  // "a.b.seg.txt" is key "a" with extension "b.seg.txt", so "a" has no txt caption.
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].kind, WdsProblemKind::kUnpaired);
  EXPECT_EQ(problems_[0].key, "a");
}

TEST_F(WebDatasetTest, NonAsciiKeysAreKeptAsUtf8) {
  const std::string key = "caf\xC3\xA9/\xE7\x8C\xAB";  // "café/猫"
  const std::string path = shard("0.tar", {{key + ".jpg", "x"}, {key + ".txt", "cat"}});
  const std::vector<WdsSample> samples = read_epoch(options({path}), 0);
  EXPECT_EQ(keys_of(samples), (Names{key}));
  EXPECT_TRUE(problems_.empty());
}

TEST_F(WebDatasetTest, UnpairedEntriesAreReportedWithShardAndKeyAndSkipped) {
  const std::string path = shard("0.tar", {{"lonely_image.jpg", "x"},
                                           {"ok.jpg", "y"},
                                           {"ok.txt", "fine"},
                                           {"lonely_caption.txt", "no image"},
                                           {"split.jpg", "z"},
                                           {"other.txt", "t"},
                                           {"split.txt", "not consecutive"}});
  const std::vector<WdsSample> samples = read_epoch(options({path}), 0);
  EXPECT_EQ(keys_of(samples), (Names{"ok"}));
  Names unpaired;
  for (const WdsProblem& problem : problems_) {
    EXPECT_EQ(problem.kind, WdsProblemKind::kUnpaired);
    EXPECT_EQ(problem.shard, path);
    EXPECT_NE(problem.message.find(path), std::string::npos) << problem.message;
    EXPECT_NE(problem.message.find(problem.key), std::string::npos) << problem.message;
    unpaired.push_back(problem.key);
  }
  // Like webdataset, only consecutive entries group: "split" is two unpaired halves.
  EXPECT_EQ(unpaired, (Names{"lonely_image", "lonely_caption", "split", "other", "split"}));
  EXPECT_STREQ(to_string(WdsProblemKind::kUnpaired), "unpaired");
}

TEST_F(WebDatasetTest, DirectoriesMetadataAndNamesWithoutExtensionAreIgnored) {
  const std::string path = shard("0.tar", {{"dir", "", true},
                                           {"__key__", "k"},
                                           {"__meta__/info.txt", "meta"},
                                           {"README", "r"},
                                           {"dir/a.jpg", "x"},
                                           {"dir/a.txt", "cap"}});
  const std::vector<WdsSample> samples = read_epoch(options({path}), 0);
  EXPECT_EQ(keys_of(samples), (Names{"dir/a"}));
  EXPECT_TRUE(problems_.empty());
}

TEST_F(WebDatasetTest, DuplicateExtensionKeepsTheFirstEntryAndIsReported) {
  const std::string path =
      shard("0.tar", {{"a.jpg", "first"}, {"a.txt", "cap"}, {"a.jpg", "second"}});
  const std::vector<WdsSample> samples = read_epoch(options({path}), 0);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].image_bytes, "first");
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].kind, WdsProblemKind::kDuplicateEntry);
  EXPECT_EQ(problems_[0].key, "a");
}

TEST_F(WebDatasetTest, MissingShardIsReportedAndTheNextShardIsRead) {
  const std::string missing = (dir_.path() / "missing.tar").string();
  const std::string good = shard("good.tar", pairs("g", 2));
  const std::vector<WdsSample> samples = read_epoch(options({missing, good}), 0);
  EXPECT_EQ(keys_of(samples), (Names{"g_0", "g_1"}));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].kind, WdsProblemKind::kBadShard);
  EXPECT_EQ(problems_[0].shard, missing);
  EXPECT_NE(problems_[0].message.find(missing), std::string::npos) << problems_[0].message;
  EXPECT_NE(problems_[0].message.find("No such file"), std::string::npos) << problems_[0].message;
}

TEST_F(WebDatasetTest, FileThatIsNotATarIsReportedWithLibarchivesMessage) {
  const std::string text = dir_.write("notes.tar", std::string(2000, 'x'));
  const std::string good = shard("good.tar", pairs("g", 1));
  const std::vector<WdsSample> samples = read_epoch(options({text, good}), 0);
  EXPECT_EQ(keys_of(samples), (Names{"g_0"}));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].kind, WdsProblemKind::kBadShard);
  EXPECT_EQ(problems_[0].shard, text);
  EXPECT_NE(problems_[0].message.find("Unrecognized archive format"), std::string::npos)
      << problems_[0].message;
}

// A gzip'ed shard unpacks a member of 257 MB from 250 KB: a bomb, read no further than 256 MB.
TEST_F(WebDatasetTest, AMemberUnpackingBeyond256MBEndsTheShardAsABadShard) {
  std::vector<TarEntry> entries = pairs("a", 1);
  entries.push_back({"b.jpg", std::string((size_t{256} << 20) + 1, '\0')});
  entries.push_back({"b.txt", "caption of b"});
  const std::string bomb = shard("bomb.tar.gz", entries, true);
  entries.clear();
  const std::vector<WdsSample> samples = read_epoch(options({bomb}), 0);
  EXPECT_EQ(keys_of(samples), (Names{"a_0"}));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].kind, WdsProblemKind::kBadShard);
  EXPECT_NE(problems_[0].message.find(bomb + ": read error after 1 samples (at 'b.jpg'): a member larger than 256 MB"),
            std::string::npos)
      << problems_[0].message;
}

TEST_F(WebDatasetTest, TruncatedShardYieldsItsCompleteSamplesThenTheNextShard) {
  const std::string cut = shard("cut.tar", pairs("c", 5, 4000));
  const size_t image_3 = test::read_bytes(cut).find(image_bytes("c_3", 4000));
  ASSERT_NE(image_3, std::string::npos);
  std::filesystem::resize_file(cut, image_3 + 1000);  // inside sample 3's image data
  const std::string good = shard("good.tar", pairs("g", 1));
  const std::vector<WdsSample> samples = read_epoch(options({cut, good}), 0);
  EXPECT_EQ(keys_of(samples), (Names{"c_0", "c_1", "c_2", "g_0"}));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].kind, WdsProblemKind::kBadShard);
  EXPECT_EQ(problems_[0].shard, cut);
  EXPECT_EQ(problems_[0].key, "c_3");
  EXPECT_NE(problems_[0].message.find("Truncated"), std::string::npos) << problems_[0].message;
}

TEST_F(WebDatasetTest, GzipCompressedShardsStream) {
  const std::string path = shard("0.tar.gz", pairs("z", 3), /*gzip=*/true);
  EXPECT_EQ(keys_of(read_epoch(options({path}), 0)), (Names{"z_0", "z_1", "z_2"}));
}

// ---- splitting shards over ranks and workers -------------------------------------------------

TEST(WebDatasetSplit, ShardsOfAllRanksAndWorkersAreDisjointAndCoverEveryShard) {
  WebDatasetOptions o;
  for (int i = 0; i < 11; ++i) o.shards.push_back(std::to_string(i) + ".tar");
  o.world_size = 2;
  o.workers = 3;
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    Names all;
    for (o.rank = 0; o.rank < o.world_size; ++o.rank) {
      for (o.worker = 0; o.worker < o.workers; ++o.worker) {
        const Names mine = shards_for(o, epoch);
        EXPECT_GE(mine.size(), 1u);
        all.insert(all.end(), mine.begin(), mine.end());
      }
    }
    EXPECT_EQ(sorted(all), sorted(o.shards)) << "epoch " << epoch;
  }
}

TEST(WebDatasetSplit, ShardOrderIsThePermutationOfSeedAndEpochOnEveryReader) {
  WebDatasetOptions o;
  for (int i = 0; i < 20; ++i) o.shards.push_back(std::to_string(i) + ".tar");
  o.seed = 7;
  const std::vector<int64_t> order = epoch_shard_order(o, 0);
  std::vector<int64_t> identity(20);
  for (int i = 0; i < 20; ++i) identity[i] = i;
  std::vector<int64_t> as_set = order;
  std::sort(as_set.begin(), as_set.end());
  EXPECT_EQ(as_set, identity);
  EXPECT_NE(order, identity);
  EXPECT_NE(epoch_shard_order(o, 1), order);
  o.rank = 1, o.world_size = 4, o.worker = 2, o.workers = 3;
  EXPECT_EQ(epoch_shard_order(o, 0), order);
  o.shuffle_shards = false;
  EXPECT_EQ(epoch_shard_order(o, 0), identity);
}

TEST(WebDatasetSplit, ReaderBeyondTheShardCountGetsNoShards) {
  WebDatasetOptions o;
  o.shards = {"a.tar", "b.tar"};
  o.workers = 4;
  o.worker = 3;
  EXPECT_TRUE(shards_for(o, 0).empty());
}

TEST(WebDatasetSplit, WorkerOutsideItsRangeIsAConfigError) {
  WebDatasetOptions o;
  o.shards = {"a.tar"};
  o.workers = 2;
  o.worker = 2;
  const std::string message = test::error_message<ConfigError>([&] { WebDatasetStream stream(o); });
  EXPECT_NE(message.find("worker 2"), std::string::npos) << message;
  o.worker = 0;
  o.shards.clear();
  test::error_message<ConfigError>([&] { WebDatasetStream stream(o); });
}

TEST_F(WebDatasetTest, StreamsOfAllReadersTogetherYieldEverySampleOnce) {
  Names shards, expected;
  for (int s = 0; s < 7; ++s) {
    shards.push_back(shard(std::to_string(s) + ".tar", pairs("s" + std::to_string(s), 3)));
    for (int i = 0; i < 3; ++i) {
      expected.push_back("s" + std::to_string(s) + "_" + std::to_string(i));
    }
  }
  WebDatasetOptions o = options(shards);
  o.shuffle_shards = true;
  o.shuffle_buffer = 4;
  o.world_size = 2;
  o.workers = 2;
  Names all;
  for (o.rank = 0; o.rank < 2; ++o.rank) {
    for (o.worker = 0; o.worker < 2; ++o.worker) {
      const Names keys = keys_of(read_epoch(o, 1));
      all.insert(all.end(), keys.begin(), keys.end());
    }
  }
  EXPECT_EQ(sorted(all), sorted(expected));
}

TEST_F(WebDatasetTest, StreamWithoutShardsYieldsNothing) {
  WebDatasetOptions o = options({shard("a.tar", pairs("a", 2))});
  o.workers = 2;
  o.worker = 1;
  WebDatasetStream stream(o);
  stream.start_epoch(0);
  EXPECT_TRUE(stream.epoch_shards().empty());
  EXPECT_FALSE(stream.next().has_value());
}

// ---- shuffling and resuming ------------------------------------------------------------------

class WebDatasetShuffleTest : public WebDatasetTest {
 protected:
  void SetUp() override {
    for (int s = 0; s < 4; ++s) {
      shards_.push_back(shard(std::to_string(s) + ".tar", pairs("s" + std::to_string(s), 15)));
      for (int i = 0; i < 15; ++i) {
        in_order_.push_back("s" + std::to_string(s) + "_" + std::to_string(i));
      }
    }
  }
  WebDatasetOptions shuffled(int64_t buffer) {
    WebDatasetOptions o = options(shards_);
    o.seed = 3;
    o.shuffle_buffer = buffer;
    return o;
  }

  Names shards_, in_order_;
};

TEST_F(WebDatasetShuffleTest, ShuffleBufferEmitsAPermutationOfTheInput) {
  const Names keys = keys_of(read_epoch(shuffled(16), 0));
  EXPECT_EQ(sorted(keys), sorted(in_order_));
  EXPECT_NE(keys, in_order_);
}

TEST_F(WebDatasetShuffleTest, ZeroShuffleBufferKeepsShardOrder) {
  EXPECT_EQ(keys_of(read_epoch(shuffled(0), 0)), in_order_);
}

TEST_F(WebDatasetShuffleTest, OrderIsFixedBySeedAndEpoch) {
  WebDatasetOptions o = shuffled(16);
  o.shuffle_shards = true;
  const Names epoch0 = keys_of(read_epoch(o, 0));
  EXPECT_EQ(keys_of(read_epoch(o, 0)), epoch0);
  EXPECT_NE(keys_of(read_epoch(o, 1)), epoch0);
  o.seed = 4;
  EXPECT_NE(keys_of(read_epoch(o, 0)), epoch0);
}

TEST_F(WebDatasetShuffleTest, SkippingSamplesContinuesExactlyLikeAnUnbrokenRun) {
  for (int64_t buffer : {8, 0}) {
    SCOPED_TRACE("shuffle_buffer " + std::to_string(buffer));
    WebDatasetOptions o = shuffled(buffer);
    o.shuffle_shards = true;
    const std::vector<WdsSample> unbroken = read_epoch(o, 2);
    ASSERT_EQ(unbroken.size(), in_order_.size());
    for (int64_t skip : {0, 1, 7, 8, 9, 23, 52, 59, 60, 75}) {
      WebDatasetStream stream(o);
      stream.start_epoch(2, skip);
      EXPECT_EQ(stream.samples_emitted(), std::min<int64_t>(skip, 60));
      const std::vector<WdsSample> rest = read_all(stream);
      ASSERT_EQ(rest.size(), unbroken.size() - std::min<size_t>(skip, 60)) << "skip " << skip;
      for (size_t i = 0; i < rest.size(); ++i) {
        const WdsSample& expected = unbroken[skip + i];
        EXPECT_EQ(rest[i].key, expected.key) << "skip " << skip << ", sample " << i;
        EXPECT_EQ(rest[i].shard, expected.shard);
        EXPECT_EQ(rest[i].index_in_shard, expected.index_in_shard);
        EXPECT_EQ(rest[i].image_bytes, expected.image_bytes);
        EXPECT_EQ(rest[i].caption, expected.caption);
      }
    }
  }
}

TEST_F(WebDatasetTest, SkippingPastBrokenShardsKeepsTheSamplesAndProblemsOfAnUnbrokenRun) {
  std::vector<TarEntry> odd = pairs("p", 6, 3000);
  odd.insert(odd.begin() + 4, TarEntry{"orphan.txt", "no image"});
  const std::string paired = shard("paired.tar", odd);
  const std::string cut = shard("cut.tar", pairs("c", 6, 3000));
  // Inside an image: where a full read fails, the skipping pass must fail too.
  std::filesystem::resize_file(cut, test::read_bytes(cut).find(image_bytes("c_2", 3000)) + 500);
  const std::string missing = (dir_.path() / "missing.tar").string();
  WebDatasetOptions o = options({paired, cut, missing, shard("tail.tar", pairs("t", 6))});
  o.shuffle_shards = true;
  o.shuffle_buffer = 5;
  const std::vector<WdsSample> unbroken = read_epoch(o, 0);
  const std::vector<WdsProblem> unbroken_problems = problems_;
  ASSERT_EQ(unbroken_problems.size(), 3u);
  for (int64_t skip : {3, 7, 11}) {
    problems_.clear();
    const Names rest = keys_of(read_epoch(o, 0, skip));
    EXPECT_EQ(rest, keys_of({unbroken.begin() + skip, unbroken.end()})) << "skip " << skip;
    ASSERT_EQ(problems_.size(), unbroken_problems.size()) << "skip " << skip;
    for (size_t i = 0; i < problems_.size(); ++i) {
      // Messages may differ in libarchive's byte counts: a skip stops short where a read did not.
      EXPECT_EQ(problems_[i].kind, unbroken_problems[i].kind);
      EXPECT_EQ(problems_[i].shard, unbroken_problems[i].shard);
      EXPECT_EQ(problems_[i].key, unbroken_problems[i].key);
    }
  }
}

}  // namespace
}  // namespace mmtrain
