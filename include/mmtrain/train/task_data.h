// What a task head is sized and fed by beyond the towers: a vqa head's answer vocabulary, an action
// head's action space and dimensions. Built from the training data on a fresh run and read back
// from the checkpoint on resume, so every process and every resume agree.
#pragma once

#include "mmtrain/config/config.h"
#include "mmtrain/data/loader.h"
#include "mmtrain/io/checkpoint_file.h"
#include "mmtrain/train/training_data.h"

namespace mmtrain {

class MultimodalModelImpl;

// An action head's model.head.action_dims and state_dims from the training episodes where they are
// 0; ConfigError naming the key where one is set and the data disagree. Runs before the resume
// check, so a resumed run's config matches the checkpoint's resolved one.
void resolve_action_dims(Config& config, const TrainingData& data);

// A head's pointing term (`<model.head.type>_point`: action_point, vqa_point) over training data
// whose rows never say where the object the text names is ("target") would train nothing:
// ConfigError naming the term, the file and the command that writes targets.
void refuse_pointing_without_targets(const Config& config, const TrainingData& data);

// The loader's task data for model.head.type: from `checkpoint` when given (resuming), else built
// from the training data; empty for a head that needs none.
TaskData build_task_data(const Config& config, const TrainingData& data, const CheckpointMeta* checkpoint);

// model.head.answer_types: the vqa head's answers grouped by the training data's question types,
// on a fresh run (a resumed run reads them back with the head's weights); nothing otherwise.
void fill_answer_types(const Config& config, const TrainingData& data, const TaskData& task,
                       MultimodalModelImpl& model);

// Records the vocabulary and action space in a checkpoint's meta.
void store_task_data(const TaskData& task, CheckpointMeta& meta);

}  // namespace mmtrain
