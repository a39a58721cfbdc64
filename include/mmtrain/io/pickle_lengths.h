// Walks a pickle's opcodes without running them and checks that every argument lies within the
// pickle and every memo index is one the pickle could have made: LibTorch's own unpickler
// allocates what a string's length or a memo index claims before it checks either.
#pragma once

#include <string>

namespace mmtrain {

// Throws std::runtime_error naming `name`, the opcode and its offset when an argument runs past
// the end, an opcode is not one of pickle's (protocols 0 to 5), or the pickle ends before STOP.
void check_pickle_lengths(const std::string& pickle, const std::string& name);

}  // namespace mmtrain
