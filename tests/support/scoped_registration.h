// A test's own registry entry (a loss term, a fusion, a head), removed when the test ends so that
// the tests after it see the built-ins alone.
#pragma once

#include <string>
#include <utility>

#include "mmtrain/registry.h"

namespace mmtrain::test {

template <class Entry>
class ScopedRegistration {
 public:
  ScopedRegistration(Registry<Entry>& registry, std::string name, Entry entry)
      : registry_(registry), name_(std::move(name)) {
    registry_.add(name_, std::move(entry));
  }
  ~ScopedRegistration() { registry_.remove(name_); }
  ScopedRegistration(const ScopedRegistration&) = delete;
  ScopedRegistration& operator=(const ScopedRegistration&) = delete;

 private:
  Registry<Entry>& registry_;
  std::string name_;
};

}  // namespace mmtrain::test
