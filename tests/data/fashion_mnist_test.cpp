#include "mmtrain/data/fashion_mnist.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <string>
#include <vector>

#include "mmtrain/data/csv.h"
#include "mmtrain/errors.h"
#include "support/error_message.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

// An IDX header: big-endian magic, then big-endian dimensions.
std::string idx_header(uint32_t magic, std::initializer_list<uint32_t> dims) {
  std::string out;
  auto put = [&](uint32_t word) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>(word >> shift & 0xff);
  };
  put(magic);
  for (uint32_t dim : dims) put(dim);
  return out;
}

// `count` images of rows x cols; pixel j of image i is (i * 16 + j) % 256, so every image differs.
std::string image_bytes(int count, int rows, int cols) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    for (int j = 0; j < rows * cols; ++j) out += static_cast<char>((i * 16 + j) % 256);
  }
  return out;
}

std::string images_idx(int count, int rows, int cols) {
  return idx_header(0x803, {uint32_t(count), uint32_t(rows), uint32_t(cols)}) +
         image_bytes(count, rows, cols);
}

std::string labels_idx(const std::vector<int>& labels) {
  std::string out = idx_header(0x801, {uint32_t(labels.size())});
  for (int label : labels) out += static_cast<char>(label);
  return out;
}

void write_gz(const fs::path& path, const std::string& bytes) {
  gzFile file = gzopen(path.string().c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::vector<std::string> lines;
  const std::string text = test::read_bytes(path);
  for (size_t start = 0, end; start < text.size(); start = end + 1) {
    end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class IdxReaderTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    const fs::path path = dir_.path() / name;
    write_gz(path, bytes);
    return path.string();
  }

  test::TempDir dir_;
};

TEST_F(IdxReaderTest, ReadsImagesRowMajorWithTheirDimensions) {
  const IdxImages images = read_idx_images(write("images.gz", images_idx(3, 2, 4)));
  EXPECT_EQ(images.count, 3);
  EXPECT_EQ(images.rows, 2);
  EXPECT_EQ(images.cols, 4);
  ASSERT_EQ(images.pixels.size(), 24u);
  EXPECT_EQ(images.image(2)[0], 32);      // image 2, row 0, column 0
  EXPECT_EQ(images.image(2)[1 * 4 + 3], 32 + 7);  // image 2, row 1, column 3
}

TEST_F(IdxReaderTest, ReadsLabelsInOrder) {
  EXPECT_EQ(read_idx_labels(write("labels.gz", labels_idx({9, 0, 3}))),
            (std::vector<uint8_t>{9, 0, 3}));
}

TEST_F(IdxReaderTest, ReadsUncompressedFilesToo) {
  const std::string path = dir_.write("labels", labels_idx({1, 2}));
  EXPECT_EQ(read_idx_labels(path), (std::vector<uint8_t>{1, 2}));
}

TEST_F(IdxReaderTest, WrongMagicNamesTheFileAndTheMagicExpected) {
  const std::string path = write("labels.gz", labels_idx({1, 2}));
  const std::string message = test::error_message<DataError>([&] { read_idx_images(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("0x00000803"), std::string::npos) << message;
  EXPECT_NE(message.find("label file"), std::string::npos) << message;
}

TEST_F(IdxReaderTest, MissingPixelsAreReportedAsTruncation) {
  std::string bytes = images_idx(3, 2, 4);
  bytes.resize(bytes.size() - 5);
  const std::string path = write("images.gz", bytes);
  const std::string message = test::error_message<DataError>([&] { read_idx_images(path); });
  EXPECT_NE(message.find(path + ": truncated"), std::string::npos) << message;
  EXPECT_NE(message.find("3 images of 2x4"), std::string::npos) << message;
}

TEST_F(IdxReaderTest, ShortHeaderIsReportedAsTruncation) {
  const std::string path = write("labels.gz", idx_header(0x801, {}));
  const std::string message = test::error_message<DataError>([&] { read_idx_labels(path); });
  EXPECT_NE(message.find(path + ": truncated"), std::string::npos) << message;
  EXPECT_NE(message.find("header"), std::string::npos) << message;
}

TEST_F(IdxReaderTest, CutOffGzipStreamIsReportedAsSuch) {
  const std::string path = write("images.gz", images_idx(50, 28, 28));
  std::string compressed = test::read_bytes(path);
  compressed.resize(compressed.size() / 2);
  dir_.write("images.gz", compressed);
  const std::string message = test::error_message<DataError>([&] { read_idx_images(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("gzip stream ends early"), std::string::npos) << message;
}

TEST_F(IdxReaderTest, BytesAfterTheDeclaredDataAreAnError) {
  const std::string path = write("labels.gz", labels_idx({1, 2}) + "xyz");
  const std::string message = test::error_message<DataError>([&] { read_idx_labels(path); });
  EXPECT_NE(message.find(path + ": 3 unexpected bytes after 2 labels"), std::string::npos) << message;
}

TEST_F(IdxReaderTest, ZeroSizedImagesAreAnError) {
  const std::string path = write("images.gz", idx_header(0x803, {2, 0, 28}));
  const std::string message = test::error_message<DataError>([&] { read_idx_images(path); });
  EXPECT_NE(message.find(path + ": header says 2 images of 0x28"), std::string::npos) << message;
}

TEST_F(IdxReaderTest, MissingFileIsNamed) {
  const std::string path = (dir_.path() / "absent.gz").string();
  EXPECT_NE(test::error_message<DataError>([&] { read_idx_labels(path); }).find(path), std::string::npos);
}

TEST(FashionMnistClasses, FolderNamesSortInLabelOrder) {
  const auto& classes = fashion_mnist_classes();
  ASSERT_EQ(classes.size(), 10u);
  for (size_t label = 1; label < classes.size(); ++label) {
    EXPECT_LT(classes[label - 1].folder, classes[label].folder);
  }
  EXPECT_EQ(classes[0].folder, "00_t-shirt_top");
  EXPECT_EQ(classes[9].name, "ankle boot");
}

// A tiny stand-in for the real files: 12 training and 10 test images of 4x3 pixels.
class PrepareFashionMnistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(idx_);
    write_split("train", 12, train_labels_);
    write_split("t10k", 10, test_labels_);
  }

  void write_split(const std::string& prefix, int count, const std::vector<int>& labels) {
    write_gz(idx_ / (prefix + "-images-idx3-ubyte.gz"), images_idx(count, 4, 3));
    write_gz(idx_ / (prefix + "-labels-idx1-ubyte.gz"), labels_idx(labels));
  }

  fs::path prepare(const FashionMnistOptions& options = {}) {
    prepare_fashion_mnist(idx_.string(), out_.string(), options);
    return out_;
  }

  CsvTable table(const std::string& name) { return read_csv((out_ / name).string(), '\t'); }

  // Decoded as stored: one grey channel.
  std::vector<uint8_t> png_pixels(const fs::path& path) {
    const cv::Mat image = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
    EXPECT_EQ(image.channels(), 1) << path;
    EXPECT_EQ(image.rows, 4) << path;
    EXPECT_EQ(image.cols, 3) << path;
    return std::vector<uint8_t>(image.datastart, image.dataend);
  }

  std::vector<uint8_t> expected_pixels(int index) {
    const std::string bytes = image_bytes(index + 1, 4, 3).substr(index * 12);
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
  }

  const std::vector<int> train_labels_{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 0};
  const std::vector<int> test_labels_{9, 8, 7, 6, 5, 4, 3, 2, 1, 1};
  test::TempDir dir_;
  const fs::path idx_ = dir_.path() / "idx";
  const fs::path out_ = dir_.path() / "out";
};

TEST_F(PrepareFashionMnistTest, TrainCsvListsEveryImageWithACaptionNamingItsClass) {
  prepare();
  const CsvTable train = table("train.csv");
  EXPECT_EQ(train.header, (std::vector<std::string>{"filepath", "title"}));
  ASSERT_EQ(train.rows.size(), 12u);
  const auto& classes = fashion_mnist_classes();
  for (size_t i = 0; i < train.rows.size(); ++i) {
    const std::string& caption = train.rows[i].fields[1];
    EXPECT_EQ(train.rows[i].fields[0], "train/" + std::string(i < 10 ? "0000" : "000") +
                                           std::to_string(i) + ".png");
    EXPECT_NE(caption.find(classes[train_labels_[i]].name), std::string::npos) << caption;
  }
}

TEST_F(PrepareFashionMnistTest, TrainImagesAreTheIdxPixelsAsGreyPngs) {
  prepare();
  EXPECT_EQ(png_pixels(out_ / "train/00000.png"), expected_pixels(0));
  EXPECT_EQ(png_pixels(out_ / "train/00011.png"), expected_pixels(11));
}

TEST_F(PrepareFashionMnistTest, TestImagesLieInTheirClassFolderAndTestCsvGivesTheirLabels) {
  prepare();
  const auto& classes = fashion_mnist_classes();
  const CsvTable test = table("test.csv");
  EXPECT_EQ(test.header, (std::vector<std::string>{"filepath", "label"}));
  ASSERT_EQ(test.rows.size(), 10u);
  for (size_t i = 0; i < test.rows.size(); ++i) {
    const int label = test_labels_[i];
    const std::string path = "test/" + classes[label].folder + "/0000" + std::to_string(i) + ".png";
    EXPECT_EQ(test.rows[i].fields, (std::vector<std::string>{path, std::to_string(label)}));
    EXPECT_EQ(png_pixels(out_ / path), expected_pixels(static_cast<int>(i)));
  }
  EXPECT_EQ(files_in(out_ / "test" / classes[1].folder), (std::vector<std::string>{"00008.png", "00009.png"}));
  EXPECT_TRUE(files_in(out_ / "test" / classes[0].folder).empty());  // every class has a folder
}

TEST_F(PrepareFashionMnistTest, ClassnamesAreInLabelOrderAndTemplatesHaveAPlaceholder) {
  prepare();
  std::vector<std::string> names;
  for (const auto& c : fashion_mnist_classes()) names.push_back(c.name);
  std::vector<std::string> classnames = lines_of(out_ / "classnames.txt");
  EXPECT_EQ(classnames, names);
  const std::vector<std::string> templates = lines_of(out_ / "templates.txt");
  EXPECT_GE(templates.size(), 2u);
  for (const auto& t : templates) EXPECT_NE(t.find("{}"), std::string::npos) << t;
}

TEST_F(PrepareFashionMnistTest, CaptionsDependOnlyOnSeedAndIndexAndVary) {
  const std::vector<std::string> first = lines_of(prepare() / "train.csv");
  FashionMnistOptions reseeded;
  reseeded.seed = 1;
  const std::vector<std::string> second = lines_of(prepare(reseeded) / "train.csv");
  EXPECT_NE(first, second);
  EXPECT_EQ(lines_of(prepare() / "train.csv"), first);
  EXPECT_GT(std::set<std::string>(first.begin() + 1, first.end()).size(), 6u);  // 12 rows
}

TEST_F(PrepareFashionMnistTest, AnAnkleBootTakesAn) {
  prepare();
  for (const auto& row : table("train.csv").rows) {
    EXPECT_EQ(row.fields[1].find("a ankle"), std::string::npos) << row.fields[1];
  }
}

TEST_F(PrepareFashionMnistTest, MaxTrainKeepsTheFirstImagesAndTheirCaptions) {
  const std::vector<std::string> all = lines_of(prepare() / "train.csv");
  FashionMnistOptions options;
  options.max_train = 5;
  const std::vector<std::string> first = lines_of(prepare(options) / "train.csv");
  EXPECT_EQ(first, std::vector<std::string>(all.begin(), all.begin() + 6));  // header + 5
  EXPECT_EQ(files_in(out_ / "train").size(), 5u);  // the earlier run's other images are gone
  EXPECT_EQ(table("test.csv").rows.size(), 10u);   // the test set is always complete
}

TEST_F(PrepareFashionMnistTest, ASecondRunWithTheSameOptionsWritesNothing) {
  prepare();
  fs::remove(out_ / "train/00003.png");
  prepare();
  EXPECT_FALSE(fs::exists(out_ / "train/00003.png"));
  FashionMnistOptions forced;
  forced.force = true;
  prepare(forced);
  EXPECT_TRUE(fs::exists(out_ / "train/00003.png"));
}

TEST_F(PrepareFashionMnistTest, AnInterruptedRunIsRedone) {
  prepare();
  fs::remove(out_ / ".fashion_mnist_complete");  // as if killed before the marker was written
  fs::remove(out_ / "train/00003.png");
  prepare();
  EXPECT_TRUE(fs::exists(out_ / "train/00003.png"));
}

TEST_F(PrepareFashionMnistTest, ImageAndLabelCountsThatDifferNameBothFiles) {
  write_gz(idx_ / "t10k-labels-idx1-ubyte.gz", labels_idx({1, 2, 3}));
  const std::string message = test::error_message<DataError>([&] { prepare(); });
  EXPECT_NE(message.find((idx_ / "t10k-images-idx3-ubyte.gz").string() + " has 10 images"),
            std::string::npos) << message;
  EXPECT_NE(message.find((idx_ / "t10k-labels-idx1-ubyte.gz").string() + " has 3 labels"),
            std::string::npos) << message;
  EXPECT_FALSE(fs::exists(out_ / "train.csv"));
}

TEST_F(PrepareFashionMnistTest, ALabelOutsideTheTenClassesNamesTheFileAndItem) {
  write_gz(idx_ / "train-labels-idx1-ubyte.gz", labels_idx({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0}));
  const std::string message = test::error_message<DataError>([&] { prepare(); });
  EXPECT_NE(message.find((idx_ / "train-labels-idx1-ubyte.gz").string() + ": label 10 at item 10"),
            std::string::npos) << message;
}

TEST_F(PrepareFashionMnistTest, AMissingInputNamesTheFolderAndTheFile) {
  fs::remove(idx_ / "train-images-idx3-ubyte.gz");
  const std::string message = test::error_message<DataError>([&] { prepare(); });
  EXPECT_NE(message.find(idx_.string() + ": neither train-images-idx3-ubyte.gz"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace mmtrain
