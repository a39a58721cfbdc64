// Map-style data sets of image-caption pairs (training, retrieval) or labelled images (zero-shot),
// read from CSV/TSV files the way open_clip reads them: image paths relative to the file's folder.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/data/bad_samples.h"

namespace mmtrain {

struct PairSample {
  std::string image_path;             // resolved
  std::vector<std::string> captions;  // one is drawn per sample and epoch; empty for labelled sets
  int64_t label = -1;                 // zero-shot class index, -1 when not labelled
  int64_t line = 0;                   // where it came from, for messages
  // Question answering (data type vqa or vqa_v2; captions hold the one question): the annotators'
  // answers (ten in VQA v2, any number of at least one), the type its accuracy is reported under,
  // and VQA v2's question id (-1 elsewhere).
  std::vector<std::string> answers;
  std::string question_type;  // also an episode's task, which action metrics are reported under
  int64_t question_id = -1;
  // Robot episodes (data type episodes; captions hold the instruction): which episode the step
  // belongs to (samples of an episode are adjacent, in step order), the proprioception before the
  // step and the action taken. Episodes and vqa rows: where the object the text names is (x, y in
  // [0,1] over the image; empty when the data does not say).
  int64_t episode = -1;
  std::vector<float> state;
  std::vector<float> action;
  std::vector<float> target;
};

// A sample without answers: an image-caption pair or a labelled image.
inline PairSample pair_sample(std::string image_path, std::vector<std::string> captions, int64_t label, int64_t line) {
  PairSample sample;
  sample.image_path = std::move(image_path);
  sample.captions = std::move(captions);
  sample.label = label;
  sample.line = line;
  return sample;
}

struct PairDataset {
  std::string source;  // the file read
  std::vector<PairSample> samples;
  std::vector<BadSample> bad;  // rows skipped while reading (bad row, empty caption, bad UTF-8)
};

// caption_key may name several columns ("title,alt"): each sample keeps all of them. Relative
// image paths are resolved against image_root, or the file's folder when it is empty.
PairDataset read_pair_csv(const std::string& path, const std::string& image_key,
                          const std::string& caption_key, char separator,
                          const std::string& image_root = "");
// One JSON object per line: {"<image_key>": "a.jpg", "<caption_key>": "..." or ["...", ...]}.
PairDataset read_pair_jsonl(const std::string& path, const std::string& image_key,
                            const std::string& caption_key, const std::string& image_root = "");
// COCO captions annotations ({"images": [{id, file_name}], "annotations": [{image_id, caption}]}):
// one sample per caption, so every caption of an image is a pair; images under image_root.
PairDataset read_coco_captions(const std::string& path, const std::string& image_root = "");
// Question-answer rows: one JSON object per line, {"<image_key>" (default "image"): "a.png", "<question_key>": "...",
// "<answer_key>": "..." or [...], "question_type": "..." (optional)}. Rows without answers are
// kept (questions to answer, not to score).
PairDataset read_vqa_jsonl(const PairSourceConfig& config);
// VQA v2 as published: the questions JSON (config.path: {"data_subtype", "questions": [{image_id,
// question, question_id}]}) and, when config.annotations is set, the annotations JSON
// ({"annotations": [{question_id, answers: [{answer}], answer_type}]}). Images are COCO's
// <image_root>/COCO_<data_subtype>_<image_id, 12 digits>.jpg; accuracy is reported per answer_type
// (yes/no, number, other) as the official summary reports it.
PairDataset read_vqa_v2(const PairSourceConfig& config);
// Robot episodes, one JSON object per step: {"episode": id (number or string), "step": n,
// "<image_key>" (default "image"): "a.png", "instruction": "...", "task": "..." (optional, what
// metrics are grouped by), "state": [numbers], "action": [numbers]}. Lines may come in any order;
// the samples come out grouped by episode (in order of first appearance) and by step. Every
// state, and every action, must have the length of the first row's: other rows are bad samples.
PairDataset read_episodes(const PairSourceConfig& config);
// csv, jsonl, coco, vqa, vqa_v2 or episodes by config.type; `key` names the config section in errors.
PairDataset read_pair_source(const PairSourceConfig& config, const std::string& key);

// Labelled images for zero-shot and their class names: csv (a label column, names from the
// classnames file) or image_folder (one sub-folder per class, in sorted order; names from the
// classnames file, else from the folder names with '_' read as a space).
struct ZeroShotSet {
  PairDataset images;
  std::vector<std::string> classnames;
};
ZeroShotSet read_zero_shot_source(const ZeroShotConfig& config);
PairDataset read_labelled_csv(const std::string& path, const std::string& image_key,
                              const std::string& label_key, char separator);
// Images only (embedding): every row must be usable, since row i of the output is row i here.
PairDataset read_image_csv(const std::string& path, const std::string& image_key, char separator);

// Reads a text file's non-empty lines (class names, templates), trailing whitespace trimmed.
std::vector<std::string> read_lines(const std::string& path);

}  // namespace mmtrain
