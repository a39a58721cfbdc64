// `mmtrain data scenes`: the scene images and their question files.
#include <filesystem>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <spdlog/spdlog.h>

#include "mmtrain/data/rng.h"
#include "mmtrain/data/scenes.h"
#include "mmtrain/errors.h"
#include "mmtrain/io/write_file.h"

namespace mmtrain {

namespace {

namespace fs = std::filesystem;

// Every draw of a scene comes from its own seed: (split, index, purpose).
enum Purpose : uint64_t { kLayout = 0, kNoise = 1, kQuestions = 2, kHeldOutQuestions = 3 };

uint64_t scene_seed(uint64_t seed, uint64_t split, int64_t index, Purpose purpose) {
  return SplitMix64::stream(seed, {split, static_cast<uint64_t>(index), purpose}).next();
}

struct SplitSpec {
  std::string name;
  uint64_t stream;
  int64_t scenes;
};

std::string scene_record(const Scene& scene, const std::string& image) {
  nlohmann::json objects = nlohmann::json::array();
  for (const SceneObject& o : scene.objects) {
    objects.push_back({{"colour", scene_colours()[static_cast<size_t>(o.colour)]},
                       {"shape", scene_shapes()[static_cast<size_t>(o.shape)]},
                       {"size", o.large ? "large" : "small"},
                       {"x", o.x},
                       {"y", o.y}});
  }
  return nlohmann::json{{"image", image}, {"objects", objects}}.dump() + "\n";
}

std::string question_record(const SceneQuestion& q, const std::string& image) {
  nlohmann::json record{{"image", image}, {"question", q.question}, {"answers", {q.answer}}, {"question_type", q.type}};
  if (!q.target.empty()) record["target"] = q.target;
  return record.dump() + "\n";
}

// Renders the split's images on two threads (each scene is independent, so the bytes do not
// depend on the thread count) and returns the scenes in order.
std::vector<Scene> write_images(const fs::path& root, const SplitSpec& split, const ScenesOptions& options) {
  std::vector<Scene> scenes(static_cast<size_t>(split.scenes));
  fs::create_directories(root / "images" / split.name);
  constexpr int kThreads = 2;
  std::vector<std::thread> threads;
  std::vector<std::string> failed(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t i = t; i < split.scenes; i += kThreads) {
        Scene& scene = scenes[static_cast<size_t>(i)];
        scene = random_scene(scene_seed(options.seed, split.stream, i, kLayout));
        const cv::Mat image = render_scene(scene, options.image_size, scene_seed(options.seed, split.stream, i, kNoise));
        const std::string path = (root / "images" / split.name / fmt::format("{:06d}.png", i)).string();
        if (!cv::imwrite(path, image, {cv::IMWRITE_PNG_COMPRESSION, 1})) {
          failed[static_cast<size_t>(t)] = path;
          return;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& path : failed) {
    if (!path.empty()) throw DataError(path + ": cannot write image");
  }
  return scenes;
}

}  // namespace

void write_scenes_dataset(const std::string& out_dir, const ScenesOptions& options) {
  if (options.train_scenes < 1 || options.test_scenes < 1 || options.questions_per_scene < 1 || options.image_size < 32) {
    throw ConfigError("data scenes: needs at least one training and one test scene, one question per scene and "
                      "--image-size >= 32");
  }
  const fs::path root(out_dir);
  const std::vector<SplitSpec> splits{{"train", 1, options.train_scenes}, {"test", 2, options.test_scenes}};
  std::map<std::string, int64_t> per_type;
  int64_t held_out_count = 0;
  for (const SplitSpec& split : splits) {
    const std::vector<Scene> scenes = write_images(root, split, options);
    std::string questions, held_out, records;
    for (int64_t i = 0; i < split.scenes; ++i) {
      const Scene& scene = scenes[static_cast<size_t>(i)];
      const std::string image = fmt::format("images/{}/{:06d}.png", split.name, i);
      records += scene_record(scene, image);
      for (const auto& q : scene_questions(scene, scene_seed(options.seed, split.stream, i, kQuestions),
                                           options.questions_per_scene, false)) {
        questions += question_record(q, image);
        if (split.name == "train") ++per_type[q.type];
      }
      if (split.name == "train") continue;
      for (const auto& q : scene_questions(scene, scene_seed(options.seed, split.stream, i, kHeldOutQuestions), 1, true)) {
        held_out += question_record(q, image);
        ++held_out_count;
      }
    }
    write_file_atomically((root / (split.name + ".jsonl")).string(), questions);
    write_file_atomically((root / (split.name + "_scenes.jsonl")).string(), records);
    if (split.name == "test") write_file_atomically((root / "heldout.jsonl").string(), held_out);
  }
  std::string counts;
  for (const auto& [type, n] : per_type) counts += fmt::format(" {} {}", type, n);
  spdlog::info("scenes: {} training and {} test scenes of {} px in {}; training questions:{}; {} held-out questions",
               options.train_scenes, options.test_scenes, options.image_size, out_dir, counts, held_out_count);
}

}  // namespace mmtrain
