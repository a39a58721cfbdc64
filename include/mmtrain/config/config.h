// The typed run configuration: one struct per YAML section, defaults as in docs/reference.md.
// Loading, validation and --set overrides live in config/load_config.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mmtrain {

struct RunConfig {
  std::string name = "default";
  std::string output_dir = "runs";
  int64_t seed = 0;
  int threads = 0;              // 0 = all cores / local ranks
  std::string device = "auto";  // auto | cpu | cuda
};

// Where image-caption pairs come from: training and retrieval read the same kinds of source.
struct PairSourceConfig {
  std::string type = "csv";  // csv | jsonl | coco | vqa | vqa_v2 | episodes | webdataset (training only)
  std::string path;          // csv/jsonl/coco: the file; webdataset: shard pattern(s)
  std::string image_key = "filepath";  // csv column, jsonl key; webdataset: image extensions ("jpg,png")
  std::string caption_key = "title";   // one or several ("a,b"); webdataset: caption extension
  std::string separator = "\t";
  std::string image_root;  // images relative to this folder (default: the file's folder)
  // Question answering (type vqa: JSONL keys; vqa_v2: the annotations JSON beside the questions).
  std::string question_key = "question";
  std::string answer_key = "answers";
  std::string annotations;
};

struct TrainDataConfig : PairSourceConfig {
  int64_t num_samples = 0;     // webdataset: samples per epoch (0: epochs end with the shards)
  int shuffle_buffer = 1000;   // webdataset: samples held for shuffling
};

struct AugmentConfig {
  std::vector<double> crop_scale = {0.9, 1.0};
  std::vector<double> crop_ratio = {0.75, 1.3333};
  bool flip = false;
  double color_jitter = 0.0;
  double grayscale = 0.0;  // probability of a grey view (open_clip's gray_scale_prob)
  double word_dropout = 0.0;  // probability that each word of a training text is left out
};

struct DataConfig {
  TrainDataConfig train;
  int workers = 2;
  double max_bad_fraction = 0.01;
  int64_t max_image_pixels = 89478485;
  AugmentConfig augment;
  std::vector<double> mean = {0.48145466, 0.4578275, 0.40821073};
  std::vector<double> std = {0.26862954, 0.26130258, 0.27577711};
};

struct TokenizerConfig {
  std::string type = "sentencepiece";
  std::string path;  // empty: train one of vocab_size from the training captions
  int vocab_size = 0;
  std::string model_type = "unigram";  // a trained tokenizer's SentencePiece model type
};

struct VisionConfig {
  std::string type = "vit";
  int image_size = 224;
  int patch_size = 16;
  int width = 768;
  int layers = 12;
  int heads = 12;
  double mlp_ratio = 4.0;
  std::string act = "gelu";  // gelu | quick_gelu
  std::string pool = "cls";  // cls | mean
  std::vector<int> stage_layers = {2, 2, 2, 2};  // resnet: Bottleneck blocks in each of 4 stages
  // vit: CoCa's attentional pooler (0 = none): this many learned queries attend over the tokens;
  // the first is pooled, the others are the tokens a caption decoder reads.
  int attn_pool_queries = 0;
  int attn_pool_heads = 8;
  int attn_pool_width = 0;  // the pooler's output width (0 = width); CoCa's is embed_dim
  // vit: while training, this fraction of the patch tokens is dropped at random (FLIP), the class
  // token always kept; evaluation sees every patch. A training choice, kept over init_from.
  double patch_dropout = 0.0;
  // convnet: "sincos" adds a fixed 2-D sine-cosine code of each token's grid cell to its tokens,
  // so what reads them (a fusion's attention) can tell where a token lies; "none" leaves them as
  // the feature map gives them.
  std::string position = "none";
  // convnet: > 0 projects the last stage's width * 2^(layers-1) channels to this many per token
  // (and pooled) and normalises them; 0 = width, not normalised (the first version). Down to the
  // first stage's width can leave too few dimensions for what a fusion reads per token.
  int output_width = 0;
};

struct TextConfig {
  std::string type = "transformer";
  int context_length = 77;
  int width = 512;
  int layers = 12;
  int heads = 8;
  double mlp_ratio = 4.0;
  std::string act = "gelu";
  // CoCa's text tower: a learned class token appended after the text is the pooled output, and
  // the other positions (without the final norm) are the tokens; else pooled at end-of-text.
  bool embed_cls = false;
};

struct FusionConfig {
  std::string type = "late";  // one of fusion_types() (registered_names.h)
  int width = 256;
  int layers = 2;
  int heads = 4;
  double mlp_ratio = 4.0;  // the fusion encoder's MLP; late fusion has none
};

// Fine-tuning: the architecture comes with the weights (an mmtrain checkpoint's model section, or
// open_clip's model config JSON); only the input sizes may change, interpolating positional
// embeddings.
struct InitFromConfig {
  std::string format;   // "" | mmtrain | open_clip
  std::string weights;  // checkpoint, .safetensors, or torch.save'd .pt/.bin state_dict
  std::string config;   // open_clip: open_clip_config.json or a bare model config
  bool strict = true;   // every weight mapped and every parameter loaded
  int image_size = 0;      // 0 = as the weights were trained
  int context_length = 0;  // 0 = as the weights were trained
  // Partial loads: "SOURCE_PREFIX=MODEL_PREFIX,..."; only weights under a listed prefix are
  // loaded, renamed; the model's other parameters keep their initialisation.
  std::string key_map;
};

// A task head chosen by name (heads/task_head.h), read beside the contrastive embeddings.
struct HeadConfig {
  std::string type;      // "" = none; one of head_types() (registered_names.h)
  int layers = 2;        // caption: decoder layers (causal self-attention, cross-attention to the image)
  int heads = 8;         // caption: attention heads over the text tower's width
  double mlp_ratio = 4.0;
  int answers = 1000;    // vqa: outputs; the vocabulary is the most frequent training answers, up to this many
  // vqa: 0 = one softmax over every answer; N = the answers grouped by the training questions'
  // question_type (up to N types): a bag of the question's words picks the type and the fused
  // representation the answer within it (the answer's type follows "colour" in "what colour is the
  // triangle?", whichever object training asked that of).
  int answer_types = 0;
  int chunk = 1;         // action: the next actions predicted from each step (an action chunk)
  int bins = 0;          // action: bins per action dimension (discrete, cross-entropy); 0: continuous (L1)
  int hidden = 0;        // action: the MLP's width; 0: twice the fusion's width
  // action: what the first spatial query (the one action_point trains) is made from: joint (the
  // fused representation and the proprioception, like the others) | words (each of the
  // instruction's tokens scores every patch, the scores summed: "red" and "cup" each find their half)
  std::string point = "joint";
  // action: the lengths of an action and of the proprioception; 0: from the training episodes (the
  // run's resolved config records them, so a checkpoint rebuilds the head without the data).
  int action_dims = 0;
  int state_dims = 0;
};

struct LockConfig {
  bool vision = false;
  bool text = false;
  // open_clip's partial unlocking: a locked tower keeps its last N groups trainable, counted from
  // the top as open_clip counts them (the projection, then the last block with the final norm, then
  // each block below, then the embeddings).
  int vision_unlocked_groups = 0;
  int text_unlocked_layers = 0;
};

struct ModelConfig {
  int embed_dim = 512;
  VisionConfig vision;
  TextConfig text;
  FusionConfig fusion;
  HeadConfig head;
  InitFromConfig init_from;
  LockConfig lock;
};

struct LossTerm {
  std::string name;  // one of loss_term_names() (registered_names.h)
  double weight = 1.0;
};

struct LossConfig {
  std::vector<LossTerm> terms = {{"clip", 1.0}};
  std::string balance = "fixed";  // fixed | uncertainty
  double label_smoothing = 0.0;   // token cross-entropy terms (caption)
  // caption: that fraction of the decoder's input tokens (not its targets) become start-of-text
  // during training (word dropout), so the next word is read from the image more than from the
  // words before it.
  double caption_input_dropout = 0.0;
};

struct OptimConfig {
  double lr = 5.0e-4;
  double weight_decay = 0.2;
  std::vector<double> betas = {0.9, 0.98};
  double eps = 1.0e-6;
  int64_t warmup_steps = 100;
  std::string schedule = "cosine";  // cosine | constant
  double grad_clip = 0.0;           // 0 = off
  // Layer-wise learning-rate decay: a tower's group at depth d from the top (the projection is 0)
  // trains at lr * layer_decay^d; fusion, head and logit scale at lr. 1 = off.
  double layer_decay = 1.0;
};

struct TrainConfig {
  int64_t batch_size = 256;  // global pairs per optimizer step
  int accum_steps = 1;
  int64_t steps = 0;  // optimizer steps; 0 = use epochs
  int64_t epochs = 1;
  std::string precision = "fp32";
  int64_t log_every = 10;
  int64_t checkpoint_every = 500;
  int keep_last = 3;
  double modality_dropout = 0.0;
  // Fraction of training images replaced by the mean image, captions kept: a caption decoder then
  // learns the captions' language prior, which contrastive decoding subtracts.
  double image_dropout = 0.0;
  int max_nonfinite_in_a_row = 10;  // skipped steps (non-finite loss or gradient) before giving up
  bool tensorboard = false;         // also write scalars as TensorBoard event files (<run>/tensorboard/)
  // Transformer blocks keep only their inputs in the forward pass and recompute the rest in the
  // backward pass: less memory for about one more forward pass.
  bool grad_checkpointing = false;
};

struct ZeroShotConfig {
  std::string type = "csv";
  std::string path;
  std::string image_key = "filepath";
  std::string label_key = "label";
  std::string separator = "\t";
  std::string classnames;  // file: one class name per line
  std::string templates;   // file: one template per line, "{}" stands for the class name
};

using RetrievalConfig = PairSourceConfig;

// How captions are generated (heads/caption_generation.h): eval.captioning and `mmtrain caption`.
struct GenerationConfig {
  int max_len = 30;            // tokens after start-of-text, end-of-text included
  int min_len = 1;             // end-of-text is not allowed before this many tokens
  int beam = 1;                // 1 = greedy (unless sampling)
  double length_penalty = 1.0; // beam: a finished caption scores sum(log p) / length^penalty
  int no_repeat_ngram = 0;     // beam and greedy: never repeat an n-gram of this size (0 = off)
  int top_k = 0;               // > 0: sample from the k most likely tokens
  double top_p = 1.0;          // < 1: sample from the smallest set of tokens with this much mass
  double temperature = 1.0;    // sampling only
  double repetition_penalty = 1.0;  // a logit of a token already in the caption: / p if > 0, * p if < 0
  // > 0: contrastive decoding against the language prior: rank tokens by log p(token | image) -
  // contrast * log p(token | blank image), among those at least `plausibility` times as likely as
  // the image's best. Helps captions name combinations the training captions never paired.
  double contrast = 0.0;
  double plausibility = 0.1;
  // Reproduce open_clip's CoCa generate(): beam scores sum raw logits (not log-probabilities),
  // lengths count start-of-text, and greedy or sampled captions also end at the padding id and
  // spend their last slot (max_len) on end-of-text.
  bool open_clip = false;
};

// Captions generated for held-out images, scored against their references (COCO's BLEU-1..4,
// ROUGE-L and CIDEr-D). An image on several rows (COCO) or with several caption columns has several
// references.
struct CaptioningEvalConfig : PairSourceConfig {
  GenerationConfig generate;
  // Optional file of attribute groups ("colour: red|green|blue"): reports the share of captions
  // whose attribute words in every group equal the first reference's (captioning/attributes).
  std::string attributes;
  int samples = 12;  // generated captions kept with their images for the report
};

// Questions answered with the vqa head and scored with VQA v2's accuracy (eval/vqa.h): vqa/accuracy,
// vqa/<question type>, and vqa/question_only (the same questions with every image blanked: how much
// the image contributes).
struct VqaEvalConfig : PairSourceConfig {
  VqaEvalConfig() { type = "vqa"; }
  bool question_only = true;
  int samples = 12;  // answered questions kept with their images for the report
};

// Offline action metrics on held-out episode steps: the action head's error and bin accuracy.
struct ActionEvalConfig : PairSourceConfig {
  ActionEvalConfig() { type = "episodes"; }
};

// Closed-loop rollouts of an action head's policy in the built-in table-top simulator.
struct RolloutEvalConfig {
  int64_t episodes = 0;              // per split; 0: none
  std::string splits = "test,heldout";  // of train, test, heldout
  int frames = 4;                    // rollouts per split whose frames the report shows
  int execute = 1;                   // actions of each predicted chunk run before predicting again
};

struct EvalConfig {
  int64_t every = 0;  // steps; 0 = at the end only
  ZeroShotConfig zeroshot;
  RetrievalConfig retrieval;
  CaptioningEvalConfig captioning;
  VqaEvalConfig vqa;
  ActionEvalConfig actions;
  RolloutEvalConfig rollout;
  int rerank_k = 0;
  // Zero-shot and retrieval also with degraded images (a Gaussian blur; half of each image occluded,
  // which half drawn from run.seed), reported beside the clean figures as <metric>@blur and
  // <metric>@occluded.
  bool degraded = false;
  int64_t batch_size = 256;
  std::string best_metric = "zeroshot/top1";
};

struct Config {
  RunConfig run;
  DataConfig data;
  TokenizerConfig tokenizer;
  ModelConfig model;
  LossConfig loss;
  OptimConfig optim;
  TrainConfig train;
  EvalConfig eval;
  std::string source;  // the file it was read from, for messages ("" when built in code)
};

}  // namespace mmtrain
