// The one pattern for everything a config chooses by name (towers, fusions, loss terms, task
// heads): a table from name to entry, where an entry is a factory, or a descriptor of what the
// named thing needs together with its factory. Tables are filled by explicit register_builtin_*()
// calls, never by static initialisers: a static library drops the object files nothing refers to,
// and their initialisers with them.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "mmtrain/errors.h"

namespace mmtrain {

// "a, b, c": the names a message lists as valid.
inline std::string listed(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// "a, b or c": the names a message offers as alternatives ("use model.fusion.type early or
// cross_attention").
inline std::string alternatives(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  }
  return text;
}

template <class Entry>
class Registry {
 public:
  // `noun` names one entry in messages: "type", "loss term".
  explicit Registry(std::string noun) : noun_(std::move(noun)) {}

  // A name registered again keeps its place and takes the new entry, so registering the
  // built-ins twice is harmless.
  void add(const std::string& name, Entry entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& item : entries_) {
      if (item.first == name) {
        item.second = std::move(entry);
        return;
      }
    }
    entries_.emplace_back(name, std::move(entry));
  }

  // For a test that registers an entry of its own for its duration only.
  void remove(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [&](const auto& item) { return item.first == name; }),
                   entries_.end());
  }

  bool contains(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return position(name) != entries_.end();
  }

  // A copy, so the caller holds nothing that a later add() could move. Throws ConfigError
  // "<key>: unknown <noun> '<name>' (valid: ...)" listing what is registered.
  Entry find(const std::string& name, const std::string& key) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = position(name);
    if (found != entries_.end()) return found->second;
    std::vector<std::string> valid;
    for (const auto& item : entries_) valid.push_back(item.first);
    throw ConfigError(key + ": unknown " + noun_ + " '" + name + "' (valid: " + listed(valid) + ")");
  }

  // In registration order: the built-ins register their default first, and messages list
  // them as the README does.
  std::vector<std::string> names() const {
    return names_where([](const Entry&) { return true; });
  }

  // The names whose entries satisfy `predicate`: what a refusal offers instead ("terms that can:
  // clip").
  template <class Predicate>
  std::vector<std::string> names_where(Predicate predicate) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> selected;
    for (const auto& item : entries_) {
      if (predicate(item.second)) selected.push_back(item.first);
    }
    return selected;
  }

 private:
  auto position(const std::string& name) const {
    return std::find_if(entries_.begin(), entries_.end(),
                        [&](const auto& item) { return item.first == name; });
  }

  mutable std::mutex mutex_;
  const std::string noun_;
  std::vector<std::pair<std::string, Entry>> entries_;
};

}  // namespace mmtrain
