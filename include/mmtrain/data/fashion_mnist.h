// Fashion-MNIST (Xiao et al. 2017) as mmtrain data: reads the gzip'd IDX files it ships as and
// writes PNGs, a captioned train.csv and a zero-shot test set (image folder and CSV).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mmtrain {

// The images of an IDX3 file: `count` row-major `rows` x `cols` greyscale images, 0 = background.
struct IdxImages {
  int64_t count = 0;
  int rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols bytes, image i at i * rows * cols

  const uint8_t* image(int64_t i) const { return pixels.data() + i * rows * cols; }
};

// Read gzip'd IDX files (uncompressed ones too: zlib passes them through). DataError naming the
// file for a wrong magic number (0x00000803 for images, 0x00000801 for labels), zero-sized
// dimensions, fewer bytes than the header promises, or bytes after the end.
IdxImages read_idx_images(const std::string& path);
std::vector<uint8_t> read_idx_labels(const std::string& path);

struct FashionMnistClass {
  std::string original;  // as the data set's authors name it: "T-shirt/top"
  std::string name;      // for captions, classnames.txt and prompts: "t-shirt"
  std::string folder;    // test/<folder>: "00_t-shirt_top"; the prefix makes sorted order label order
};

// The 10 classes, index = label.
const std::vector<FashionMnistClass>& fashion_mnist_classes();

struct FashionMnistOptions {
  int64_t max_train = 0;  // the first max_train training images; 0 = all 60,000
  uint64_t seed = 0;      // picks each training caption's template
  bool force = false;     // rewrite even when a complete output with the same options exists
  int threads = 2;        // PNG writers
};

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from idx_dir and writes under out_dir:
//   train/NNNNN.png, train.csv          tab-separated `filepath  title`, one caption per image
//   test/<class folder>/NNNNN.png       all test images, NNNNN = index in the t10k files
//   test.csv                            tab-separated `filepath  label`, in t10k order
//   classnames.txt, templates.txt       zero-shot class names (label order) and prompts with {}
//   .fashion_mnist_complete             written last: the options it was made with
// Paths in the CSVs are relative to out_dir. When the marker exists and records the same options,
// nothing is read or written; when it records others, train/ and test/ are removed and rewritten.
void prepare_fashion_mnist(const std::string& idx_dir, const std::string& out_dir,
                           const FashionMnistOptions& options);

}  // namespace mmtrain
