// Text for the progress lines people read on the console and in train.log.
#pragma once

#include <string>

namespace mmtrain {

// "45s", "3m07s", "2h05m"
std::string format_duration(double seconds);

}  // namespace mmtrain
