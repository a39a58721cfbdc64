// `mmtrain report RUN_DIR`: one self-contained HTML page for a run (summary, charts of every train
// and eval metric against step, final eval, bad samples, resolved config), built from the run's
// metrics.jsonl and config.yaml. Nothing external is referenced, so the file can be mailed or
// archived and opens the same anywhere.
#pragma once

#include <string>

namespace mmtrain {

// The page as text. DataError naming the path when RUN_DIR or RUN_DIR/metrics.jsonl is missing;
// unreadable lines (a torn last line of a running or crashed run) are skipped and counted.
std::string render_report(const std::string& run_dir);

// Writes RUN_DIR/report.html atomically (temp file + rename, so a reader never sees half a page)
// and returns its path.
std::string write_report(const std::string& run_dir);

}  // namespace mmtrain
