#include "mmtrain/io/pickle_lengths.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace mmtrain {

namespace {

// How an opcode's argument is laid out (Python's pickletools lists the same table).
enum class Argument { kNone, kFixed, kLengthPrefixed, kLine, kTwoLines, kUnknown };

struct Layout {
  Argument argument;
  int width;  // kFixed: bytes; kLengthPrefixed: bytes of the little-endian length
};

Layout layout_of(uint8_t opcode) {
  switch (opcode) {
    case 0x80: case 'K': case 'h': case 'q': case 0x82: return {Argument::kFixed, 1};   // PROTO BININT1 BINGET BINPUT EXT1
    case 'M': case 0x83: return {Argument::kFixed, 2};                                   // BININT2 EXT2
    case 'J': case 'j': case 'r': case 0x84: return {Argument::kFixed, 4};               // BININT LONG_BINGET LONG_BINPUT EXT4
    case 'G': case 0x95: return {Argument::kFixed, 8};                                   // BINFLOAT FRAME
    case 'U': case 'C': case 0x8c: case 0x8a: return {Argument::kLengthPrefixed, 1};     // SHORT_BIN{STRING,BYTES,UNICODE} LONG1
    case 'T': case 'B': case 'X': case 0x8b: return {Argument::kLengthPrefixed, 4};      // BIN{STRING,BYTES,UNICODE} LONG4
    case 0x8e: case 0x8d: case 0x96: return {Argument::kLengthPrefixed, 8};              // BINBYTES8 BINUNICODE8 BYTEARRAY8
    case 'I': case 'L': case 'F': case 'S': case 'V': case 'g': case 'p': case 'P': return {Argument::kLine, 0};
    case 'c': case 'i': return {Argument::kTwoLines, 0};                                 // GLOBAL INST
    default: break;
  }
  static const char kNoArgument[] = "()0123NQRabde}]loustu\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98.";
  if (opcode != 0 && std::memchr(kNoArgument, opcode, sizeof(kNoArgument) - 1) != nullptr) return {Argument::kNone, 0};
  return {Argument::kUnknown, 0};
}

uint64_t little_endian(const unsigned char* bytes, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

void check_pickle_lengths(const std::string& pickle, const std::string& name) {
  const auto* data = reinterpret_cast<const unsigned char*>(pickle.data());
  const uint64_t size = pickle.size();
  uint64_t at = 0;
  while (at < size) {
    const uint64_t offset = at;
    const uint8_t opcode = data[at++];
    const auto fail = [&](const std::string& why) {
      throw std::runtime_error(name + ": opcode 0x" + "0123456789abcdef"[opcode >> 4] + "0123456789abcdef"[opcode & 15] +
                               " at offset " + std::to_string(offset) + ": " + why);
    };
    const Layout layout = layout_of(opcode);
    uint64_t skip = 0;
    switch (layout.argument) {
      case Argument::kNone: break;
      case Argument::kFixed: skip = static_cast<uint64_t>(layout.width); break;
      case Argument::kLengthPrefixed: {
        if (static_cast<uint64_t>(layout.width) > size - at) fail("its length runs past the end");
        skip = little_endian(data + at, layout.width);
        at += static_cast<uint64_t>(layout.width);
        break;
      }
      case Argument::kLine:
      case Argument::kTwoLines:
        for (int line = layout.argument == Argument::kLine ? 1 : 2; line > 0; --line) {
          const void* end = std::memchr(data + at, '\n', size - at);
          if (end == nullptr) fail("its line runs past the end");
          at = static_cast<uint64_t>(static_cast<const unsigned char*>(end) - data) + 1;
        }
        break;
      case Argument::kUnknown: fail("not a pickle opcode");
    }
    if (skip > size - at) fail("its argument claims " + std::to_string(skip) + " bytes, more than remain");
    // LibTorch sizes its memo table from the index a LONG_BINPUT names; picklers number entries
    // from 0, so an index beyond the pickle's own length is only ever a crafted one.
    if (opcode == 'r' && little_endian(data + at, 4) > size) {
      fail("a memo index beyond anything the pickle could have stored");
    }
    at += skip;
    if (opcode == '.') return;
  }
  throw std::runtime_error(name + ": ends before its STOP opcode");
}

}  // namespace mmtrain
