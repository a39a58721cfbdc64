// open_clip's SimpleTokenizer (3.3, clean="lower") in C++. A caption is cleaned as open_clip
// cleans it (ftfy, html.unescape twice, whitespace collapsed, lower-cased), split into words by
// its regex, and each word's UTF-8 bytes, written as CLIP's byte characters, are merged by BPE.
//
// Where this can differ from Python (none of it occurs in ordinary captions):
// - ftfy is the identity, as in the golden data. open_clip with ftfy installed also repairs
//   mojibake, straightens curly quotes, narrows full-width forms, splits ligatures and applies
//   NFC, so captions with those differ.
// - html.unescape knows only amp, lt, gt, quot (also upper-case), apos and nbsp of the ~2200
//   HTML5 named references, plus every numeric one; "&eacute;" stays as written.
// - Lower-casing is PCRE2's \L (simple case mappings of letters) plus what Python's str.lower()
//   does beyond it: U+0130, Roman numerals, circled letters and the final-sigma rule. Checked
//   against Python 3.11 for every code point, alone and on either side of a capital sigma; both
//   use Unicode 14 (PCRE2 10.42), a newer PCRE2 or Python may add letters the other lacks.
// - Letter and digit classes come from PCRE2's Unicode tables, Python's from its regex module.
// - Bytes that are not UTF-8 read as U+FFFD, one per maximal invalid sequence, as Python decodes
//   with errors="replace" (a Python caption cannot hold them at all).

#include "mmtrain/text/clip_bpe_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#define ZLIB_CONST
#include <pcre2.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <ios>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mmtrain {
namespace {

// open_clip keeps lines 1..48894 of the merges file (line 0 is a "#version" header): with the
// 512 byte symbols and the two special tokens that makes CLIP's 49408 ids.
constexpr size_t kMergeCount = 49152 - 256 - 2;
constexpr int64_t kVocabSize = 512 + kMergeCount + 2;
constexpr int64_t kStartOfTextId = kVocabSize - 2;
constexpr int64_t kEndOfTextId = kVocabSize - 1;
constexpr std::string_view kStartOfText = "<start_of_text>";
constexpr std::string_view kEndOfText = "<end_of_text>";
constexpr std::string_view kEndOfWord = "</w>";
constexpr char32_t kReplacementCharacter = 0xFFFD;
// Words in captions are a small set, but an unbounded cache would also keep every typo and URL of
// a web-scale data set; words met after it is full are merged again each time.
constexpr size_t kCacheCapacity = size_t{1} << 18;

// open_clip's pattern, with one change: its `[^\s\p{L}\p{N}]+` is written `[^ \p{L}\p{N}]+`.
// After whitespace cleaning ' ' is the only character Python's \s can meet, while PCRE2's \s also
// takes U+180E, which Python keeps as a symbol.
constexpr const char* kWordPattern =
    "<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^ \\p{L}\\p{N}]+";

std::runtime_error not_a_vocabulary(const std::string& why) {
  return std::runtime_error("not a CLIP BPE vocabulary: " + why);
}

// ---- UTF-8 -------------------------------------------------------------------------------------

struct LeadByte {
  int length = 0;  // 0: never starts a character
  unsigned char low = 0x80;  // range of the second byte, narrowed to exclude overlong forms,
  unsigned char high = 0xBF;  // surrogates and code points past U+10FFFF
};

LeadByte describe_lead(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return {2, 0x80, 0xBF};
  if (lead == 0xE0) return {3, 0xA0, 0xBF};
  if (lead == 0xED) return {3, 0x80, 0x9F};
  if (lead >= 0xE1 && lead <= 0xEF) return {3, 0x80, 0xBF};
  if (lead == 0xF0) return {4, 0x90, 0xBF};
  if (lead >= 0xF1 && lead <= 0xF3) return {4, 0x80, 0xBF};
  if (lead == 0xF4) return {4, 0x80, 0x8F};
  return {};
}

// Reads the character at bytes[at] and moves `at` past it. An invalid sequence reads as one
// U+FFFD and `at` stops at the first byte that does not continue it, as Python's decoder does.
char32_t next_code_point(std::string_view bytes, size_t& at) {
  const unsigned char lead = static_cast<unsigned char>(bytes[at++]);
  if (lead < 0x80) return lead;
  LeadByte form = describe_lead(lead);
  if (form.length == 0) return kReplacementCharacter;
  char32_t code_point = lead & (0x7F >> form.length);
  for (int k = 1; k < form.length; ++k, form.low = 0x80, form.high = 0xBF) {
    if (at >= bytes.size()) return kReplacementCharacter;
    const unsigned char next = static_cast<unsigned char>(bytes[at]);
    if (next < form.low || next > form.high) return kReplacementCharacter;
    code_point = (code_point << 6) | (next & 0x3F);
    ++at;
  }
  return code_point;
}

std::u32string decode_utf8(std::string_view bytes) {
  std::u32string text;
  text.reserve(bytes.size());
  for (size_t at = 0; at < bytes.size();) text += next_code_point(bytes, at);
  return text;
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string bytes;
  bytes.reserve(text.size());
  for (const char32_t c : text) append_utf8(c, bytes);
  return bytes;
}

// ---- html.unescape -----------------------------------------------------------------------------

struct NamedReference {
  std::u32string_view name;
  char32_t value;
};

// The references captions scraped from web pages carry. Names without ';' are the legacy forms
// HTML5 also accepts bare; html.entities.html5 has no bare "apos" and no upper-case "NBSP".
constexpr NamedReference kNamedReferences[] = {
    {U"amp;", U'&'},  {U"amp", U'&'},   {U"AMP;", U'&'},   {U"AMP", U'&'},
    {U"lt;", U'<'},   {U"lt", U'<'},    {U"LT;", U'<'},    {U"LT", U'<'},
    {U"gt;", U'>'},   {U"gt", U'>'},    {U"GT;", U'>'},    {U"GT", U'>'},
    {U"quot;", U'"'}, {U"quot", U'"'},  {U"QUOT;", U'"'},  {U"QUOT", U'"'},
    {U"apos;", U'\''}, {U"nbsp;", 0xA0}, {U"nbsp", 0xA0},
};

std::optional<char32_t> find_named_reference(std::u32string_view name) {
  for (const NamedReference& reference : kNamedReferences) {
    if (reference.name == name) return reference.value;
  }
  return std::nullopt;
}

// html.unescape on a name it does not know replaces its longest known prefix (2 characters or
// more) and keeps the rest, so "&ampx;" reads "&x;"; with no such prefix it keeps the text.
std::u32string replace_named_reference(std::u32string_view name) {
  if (const auto value = find_named_reference(name)) return std::u32string(1, *value);
  for (size_t length = name.size() - 1; length >= 2; --length) {
    if (const auto value = find_named_reference(name.substr(0, length))) {
      return std::u32string(1, *value) + std::u32string(name.substr(length));
    }
  }
  return U"&" + std::u32string(name);
}

// Code points HTML forbids in a reference: html.unescape drops them.
bool is_forbidden_reference(uint32_t c) {
  return (c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) ||
         (c >= 0x7F && c <= 0x9F) || (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
}

std::u32string replace_numeric_reference(uint32_t number) {
  // Web pages write C1 controls meaning Windows-1252, and html.unescape reads them so.
  static constexpr char32_t kWindows1252[32] = {
      0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  if (number == 0) return std::u32string(1, kReplacementCharacter);
  if (number == 0x0D) return U"\r";
  if (number >= 0x80 && number <= 0x9F) return std::u32string(1, kWindows1252[number - 0x80]);
  if ((number >= 0xD800 && number <= 0xDFFF) || number > 0x10FFFF) {
    return std::u32string(1, kReplacementCharacter);
  }
  if (is_forbidden_reference(number)) return {};
  return std::u32string(1, static_cast<char32_t>(number));
}

struct Reference {
  std::u32string replacement;
  size_t length = 0;  // characters replaced, from the '&'; 0 when no reference starts there
};

int digit_value(char32_t c, int base) {
  if (c >= U'0' && c <= U'9') return static_cast<int>(c - U'0');
  if (base == 16 && c >= U'a' && c <= U'f') return static_cast<int>(c - U'a') + 10;
  if (base == 16 && c >= U'A' && c <= U'F') return static_cast<int>(c - U'A') + 10;
  return -1;
}

// The digits from text[digits_at] on and an optional ';'. Python's number is unbounded; every
// value past U+10FFFF is replaced alike, so saturating there keeps the result.
Reference read_numeric_reference(std::u32string_view text, size_t start, size_t digits_at,
                                 int base) {
  size_t end = digits_at;
  uint32_t number = 0;
  for (int digit; end < text.size() && (digit = digit_value(text[end], base)) >= 0; ++end) {
    number = std::min<uint32_t>(number * base + digit, 0x110000);
  }
  if (end == digits_at) return {};
  if (end < text.size() && text[end] == U';') ++end;
  return {replace_numeric_reference(number), end - start};
}

bool ends_reference_name(char32_t c) {
  return c == U'\t' || c == U'\n' || c == U'\f' || c == U' ' || c == U'<' || c == U'&' ||
         c == U'#' || c == U';';
}

Reference read_named_reference(std::u32string_view text, size_t start) {
  constexpr size_t kLongestName = 32;
  const size_t name_at = start + 1;
  size_t end = name_at;
  while (end < text.size() && end - name_at < kLongestName && !ends_reference_name(text[end])) ++end;
  if (end == name_at) return {};
  if (end < text.size() && text[end] == U';') ++end;
  return {replace_named_reference(text.substr(name_at, end - name_at)), end - start};
}

// html.unescape's pattern at text[start] == '&':
//   &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)
Reference read_reference(std::u32string_view text, size_t start) {
  const auto at = [&](size_t k) { return k < text.size() ? text[k] : U'\0'; };
  if (at(start + 1) != U'#') return read_named_reference(text, start);
  if (Reference decimal = read_numeric_reference(text, start, start + 2, 10); decimal.length) {
    return decimal;
  }
  if (at(start + 2) == U'x' || at(start + 2) == U'X') {
    return read_numeric_reference(text, start, start + 3, 16);
  }
  return {};
}

std::u32string html_unescape(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    if (text[at] == U'&') {
      if (const Reference reference = read_reference(text, at); reference.length) {
        out += reference.replacement;
        at += reference.length;
        continue;
      }
    }
    out += text[at++];
  }
  return out;
}

// ---- whitespace --------------------------------------------------------------------------------

// Python's str.isspace(), which str.split() and str.strip() use.
bool is_python_space(char32_t c) {
  return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 ||
         c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// " ".join(text.split())
std::u32string collapse_whitespace(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  bool space_pending = false;
  for (const char32_t c : text) {
    if (is_python_space(c)) {
      space_pending = !out.empty();
      continue;
    }
    if (space_pending) out += U' ';
    space_pending = false;
    out += c;
  }
  return out;
}

std::string strip_ascii_space(const std::string& text) {
  constexpr const char* kSpace = " \t\n\v\f\r";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// ---- lower-casing ------------------------------------------------------------------------------

// What Python's str.lower() does beyond PCRE2's \L (simple case mappings of letters): U+0130
// becomes two characters, and Roman numerals and circled letters, not letters, have lower cases.
// With these, the two agree on every single code point of Unicode 14 (Python 3.11).
std::u32string lowercase_beyond_letters(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (const char32_t c : text) {
    if (c == 0x130) {
      out += U"i\u0307";
    } else if (c >= 0x2160 && c <= 0x216F) {
      out += c + 0x10;
    } else if (c >= 0x24B6 && c <= 0x24CF) {
      out += c + 0x1A;
    } else {
      out += c;
    }
  }
  return out;
}

// Python's Final_Sigma context: a capital sigma whose nearest character before it that is not
// case-ignorable is cased, and whose nearest such character after it is not (or is missing).
// The character before is matched and put back rather than looked behind at, as PCRE2
// lookbehinds have a fixed length.
constexpr const char* kFinalSigmaPattern =
    "((?!\\p{Case_Ignorable})\\p{Cased}\\p{Case_Ignorable}*)\\x{3A3}"
    "(?!\\p{Case_Ignorable}*(?!\\p{Case_Ignorable})\\p{Cased})";
// Lower-cased whole by a \L substitution.
constexpr const char* kWholeTextPattern = "(?s).+";

// ---- PCRE2 -------------------------------------------------------------------------------------

struct PatternFree {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataFree {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
using Pattern = std::unique_ptr<pcre2_code, PatternFree>;
using MatchData = std::unique_ptr<pcre2_match_data, MatchDataFree>;

std::string pcre2_message(int error) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(error, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

Pattern compile_pattern(const std::string& pattern, uint32_t options) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  Pattern code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                             options | PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr));
  if (!code) {
    throw std::runtime_error("PCRE2 rejects /" + pattern + "/ at " +
                             std::to_string(offset) + ": " + pcre2_message(error));
  }
  // JIT only makes matching faster; without it (a PCRE2 built without JIT) PCRE2 interprets.
  pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE);
  return code;
}

// Subjects here are always valid UTF-8 (they went through decode_utf8), so PCRE2 need not check
// them again: its check would rescan the whole caption for every word.
std::string substitute(const pcre2_code* pattern, const std::string& text,
                       std::string_view replacement, uint32_t options) {
  options |= PCRE2_SUBSTITUTE_OVERFLOW_LENGTH | PCRE2_NO_UTF_CHECK;
  std::string out(text.size() + 16, '\0');
  for (;;) {
    PCRE2_SIZE length = out.size();
    const int rc = pcre2_substitute(pattern, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                    0, options, nullptr, nullptr,
                                    reinterpret_cast<PCRE2_SPTR>(replacement.data()),
                                    replacement.size(), reinterpret_cast<PCRE2_UCHAR*>(out.data()),
                                    &length);
    if (rc >= 0) {
      out.resize(length);
      return out;
    }
    if (rc != PCRE2_ERROR_NOMEMORY) {
      throw std::runtime_error("clip_bpe: PCRE2 substitution failed: " + pcre2_message(rc));
    }
    out.resize(length);  // the size PCRE2 asks for, its terminating zero included
  }
}

template <typename Visit>
void for_each_match(const pcre2_code* pattern, const std::string& text, Visit&& visit) {
  const MatchData match(pcre2_match_data_create_from_pattern(pattern, nullptr));
  if (!match) throw std::bad_alloc();
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  // Every alternative of the word pattern consumes at least one character, so this advances.
  for (PCRE2_SIZE offset = 0; offset < text.size();) {
    const int rc = pcre2_match(pattern, subject, text.size(), offset, PCRE2_NO_UTF_CHECK,
                               match.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) throw std::runtime_error("clip_bpe: PCRE2 match failed: " + pcre2_message(rc));
    const PCRE2_SIZE* bounds = pcre2_get_ovector_pointer(match.get());
    visit(std::string_view(text).substr(bounds[0], bounds[1] - bounds[0]));
    offset = bounds[1];
  }
}

// ---- gzip --------------------------------------------------------------------------------------

constexpr size_t kMaxVocabularyBytes = size_t{64} << 20;

std::string gunzip(const std::string& compressed) {
  if (compressed.size() > UINT_MAX) throw not_a_vocabulary("too large to be one");
  z_stream stream{};
  // 16 + MAX_WBITS: a gzip header and trailer, as gzip.open reads, not a bare zlib stream.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  const std::unique_ptr<z_stream, int (*)(z_streamp)> end_stream(&stream, inflateEnd);
  stream.next_in = reinterpret_cast<const Bytef*>(compressed.data());
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string text;
  std::array<char, 1 << 16> chunk;
  for (int rc = Z_OK; rc != Z_STREAM_END;) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&stream, Z_NO_FLUSH);
    // Z_BUF_ERROR: the input ran out before the gzip trailer.
    if (rc == Z_BUF_ERROR) throw not_a_vocabulary("gzip data missing or cut short");
    if (rc != Z_OK && rc != Z_STREAM_END) {
      const std::string detail = stream.msg ? stream.msg : "error " + std::to_string(rc);
      throw not_a_vocabulary("not gzip data (zlib: " + detail + ")");
    }
    text.append(chunk.data(), chunk.size() - stream.avail_out);
    // CLIP's merges are 3.2 MB unpacked; a gzip bomb stops here instead of filling memory.
    if (text.size() > kMaxVocabularyBytes) throw not_a_vocabulary("more than 64 MB unpacked");
  }
  return text;
}

// ---- vocabulary --------------------------------------------------------------------------------

// CLIP's bytes_to_unicode(): every byte gets a visible stand-in character so that the merges file
// is plain text. Printable Latin-1 bytes stand for themselves, the others for 256, 257, ...
struct ByteCharacters {
  std::array<char32_t, 256> of_byte{};
  std::array<int, 256 + 68> byte_of{};  // -1 where a character stands for no byte
  std::vector<unsigned char> id_order;  // bytes in the order of ids 0..255, as Python's dict
};

ByteCharacters make_byte_characters() {
  const auto printable = [](int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  ByteCharacters table;
  table.byte_of.fill(-1);
  char32_t next_stand_in = 256;
  for (const bool printable_pass : {true, false}) {
    for (int b = 0; b < 256; ++b) {
      if (printable(b) != printable_pass) continue;
      table.of_byte[b] = printable_pass ? static_cast<char32_t>(b) : next_stand_in++;
      table.byte_of[table.of_byte[b]] = b;
      table.id_order.push_back(static_cast<unsigned char>(b));
    }
  }
  return table;
}

const ByteCharacters& byte_characters() {
  static const ByteCharacters table = make_byte_characters();
  return table;
}

std::string byte_symbol(unsigned char b) {
  std::string symbol;
  append_utf8(byte_characters().of_byte[b], symbol);
  return symbol;
}

using MergeLine = std::pair<std::string, std::string>;

MergeLine parse_merge(std::string_view line, size_t line_index) {
  constexpr const char* kSeparators = " \t\r";
  std::vector<std::string> fields;
  for (size_t at = line.find_first_not_of(kSeparators); at != std::string_view::npos;
       at = line.find_first_not_of(kSeparators, at)) {
    const size_t end = std::min(line.find_first_of(kSeparators, at), line.size());
    fields.emplace_back(line.substr(at, end - at));
    at = end;
  }
  if (fields.size() != 2) {
    throw not_a_vocabulary("line " + std::to_string(line_index + 1) + " is not a pair of symbols");
  }
  return {std::move(fields[0]), std::move(fields[1])};
}

// Lines 1..kMergeCount of the file, in order: a merge's line number is its rank.
std::vector<MergeLine> read_merges(const std::string& text) {
  std::vector<MergeLine> merges;
  merges.reserve(kMergeCount);
  size_t begin = text.find('\n');
  while (merges.size() < kMergeCount) {
    if (begin == std::string::npos || ++begin >= text.size()) {
      throw not_a_vocabulary("it has " + std::to_string(merges.size()) + " merges, CLIP has " +
                             std::to_string(kMergeCount));
    }
    const size_t end = std::min(text.find('\n', begin), text.size());
    merges.push_back(parse_merge(std::string_view(text).substr(begin, end - begin),
                                 merges.size() + 1));
    begin = end;
  }
  return merges;
}

// What a symbol's byte characters stand for; "</w>" is made of printable bytes, so it survives.
std::string symbol_bytes(const std::string& symbol) {
  std::string bytes;
  for (const char32_t c : decode_utf8(symbol)) {
    const int b = c < byte_characters().byte_of.size() ? byte_characters().byte_of[c] : -1;
    if (b < 0) throw not_a_vocabulary("symbol '" + symbol + "' is not made of byte characters");
    bytes += static_cast<char>(b);
  }
  return bytes;
}

struct Merge {
  int32_t rank;
  int32_t merged_id;
};

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// BPE runs on ids, not strings: every symbol BPE can produce is a vocabulary entry.
struct Vocabulary {
  std::vector<std::string> id_bytes;  // what each id decodes to, "</w>" included
  std::unordered_map<uint64_t, Merge> merges;  // (left id, right id) -> rank and merged id
  std::array<int32_t, 256> byte_ids{};
  std::array<int32_t, 256> final_byte_ids{};  // a word's last byte, which carries "</w>"
};

std::vector<std::string> vocabulary_symbols(const std::vector<MergeLine>& merges) {
  std::vector<std::string> symbols;
  symbols.reserve(kVocabSize);
  for (const unsigned char b : byte_characters().id_order) symbols.push_back(byte_symbol(b));
  for (const unsigned char b : byte_characters().id_order) {
    symbols.push_back(byte_symbol(b) + std::string(kEndOfWord));
  }
  for (const auto& [left, right] : merges) symbols.push_back(left + right);
  symbols.emplace_back(kStartOfText);
  symbols.emplace_back(kEndOfText);
  return symbols;
}

Vocabulary build_vocabulary(const std::vector<MergeLine>& merges) {
  const std::vector<std::string> symbols = vocabulary_symbols(merges);
  // Later entries win, as in open_clip's dict(zip(vocab, range(len(vocab)))).
  std::unordered_map<std::string, int32_t> ids;
  for (size_t id = 0; id < symbols.size(); ++id) ids[symbols[id]] = static_cast<int32_t>(id);

  Vocabulary vocabulary;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto left_id = ids.find(left);
    const auto right_id = ids.find(right);
    // A merge of a symbol no word can contain never applies.
    if (left_id == ids.end() || right_id == ids.end()) continue;
    vocabulary.merges[pair_key(left_id->second, right_id->second)] = {
        static_cast<int32_t>(rank), ids.at(left + right)};
  }
  for (int b = 0; b < 256; ++b) {
    const std::string symbol = byte_symbol(static_cast<unsigned char>(b));
    vocabulary.byte_ids[b] = ids.at(symbol);
    vocabulary.final_byte_ids[b] = ids.at(symbol + std::string(kEndOfWord));
  }
  vocabulary.id_bytes.reserve(symbols.size());
  for (const std::string& symbol : symbols) vocabulary.id_bytes.push_back(symbol_bytes(symbol));
  return vocabulary;
}

// ---- the tokenizer -----------------------------------------------------------------------------

class ClipBpeTokenizer final : public Tokenizer {
 public:
  explicit ClipBpeTokenizer(std::string gz_bytes)
      : model_bytes_(std::move(gz_bytes)),
        vocabulary_(build_vocabulary(read_merges(gunzip(model_bytes_)))),
        word_pattern_(compile_pattern(kWordPattern, PCRE2_CASELESS)),
        whole_text_pattern_(compile_pattern(kWholeTextPattern, 0)),
        final_sigma_pattern_(compile_pattern(kFinalSigmaPattern, 0)) {
    cache_.emplace(kStartOfText, std::vector<int64_t>{kStartOfTextId});
    cache_.emplace(kEndOfText, std::vector<int64_t>{kEndOfTextId});
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids;
    for_each_match(word_pattern_.get(), clean(text),
                   [&](std::string_view word) { append_word_ids(word, ids); });
    return ids;
  }

  // Python's decode, stripped: the last word's "</w>" leaves a trailing space.
  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string bytes;
    for (const int64_t id : ids) {
      if (id < 0 || id >= vocab_size()) {
        throw std::out_of_range("clip_bpe: id " + std::to_string(id) + " is outside [0, " +
                                std::to_string(vocab_size()) + ")");
      }
      bytes += vocabulary_.id_bytes[static_cast<size_t>(id)];
    }
    return strip_ascii_space(replace_all(encode_utf8(decode_utf8(bytes)), kEndOfWord, " "));
  }

  int64_t vocab_size() const override { return static_cast<int64_t>(vocabulary_.id_bytes.size()); }
  int64_t bos_id() const override { return kStartOfTextId; }
  int64_t eos_id() const override { return kEndOfTextId; }
  // As open_clip pads. 0 is also '!' inside a word ("!\"!" encodes to [0, ...]): a pad mask built
  // as ids != pad_id hides such tokens, where open_clip's CLIP text tower masks nothing.
  int64_t pad_id() const override { return 0; }
  std::string type() const override { return "clip_bpe"; }
  const std::string& model_bytes() const override { return model_bytes_; }

 private:
  // open_clip's clean="lower": basic_clean, whitespace_clean, then str.lower().
  std::string clean(const std::string& text) const {
    const std::u32string unescaped = html_unescape(html_unescape(decode_utf8(text)));
    return lowercase(encode_utf8(lowercase_beyond_letters(collapse_whitespace(unescaped))));
  }

  std::string lowercase(const std::string& text) const {
    if (text.empty()) return text;
    const std::string sigma_done =
        substitute(final_sigma_pattern_.get(), text, u8"$1\u03C2", PCRE2_SUBSTITUTE_GLOBAL);
    return substitute(whole_text_pattern_.get(), sigma_done, "\\L$0", PCRE2_SUBSTITUTE_EXTENDED);
  }

  // open_clip's bpe() with its cache, which holds the two special tokens from the start.
  void append_word_ids(std::string_view word, std::vector<int64_t>& ids) const {
    std::string key(word);
    {
      const std::lock_guard<std::mutex> lock(cache_mutex_);
      if (const auto cached = cache_.find(key); cached != cache_.end()) {
        ids.insert(ids.end(), cached->second.begin(), cached->second.end());
        return;
      }
    }
    std::vector<int64_t> word_ids = merge_word(word);
    ids.insert(ids.end(), word_ids.begin(), word_ids.end());
    const std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kCacheCapacity) cache_.emplace(std::move(key), std::move(word_ids));
  }

  std::vector<int64_t> merge_word(std::string_view word) const {
    std::vector<int32_t> symbols;
    symbols.reserve(word.size());
    for (size_t k = 0; k < word.size(); ++k) {
      const auto b = static_cast<unsigned char>(word[k]);
      symbols.push_back(k + 1 == word.size() ? vocabulary_.final_byte_ids[b]
                                             : vocabulary_.byte_ids[b]);
    }
    while (symbols.size() > 1) {
      const std::optional<std::pair<uint64_t, Merge>> best = best_merge(symbols);
      if (!best) break;
      symbols = apply_merge(symbols, best->first, best->second.merged_id);
    }
    return {symbols.begin(), symbols.end()};
  }

  // The adjacent pair of lowest rank; ranks are distinct, so no tie needs breaking.
  std::optional<std::pair<uint64_t, Merge>> best_merge(const std::vector<int32_t>& symbols) const {
    std::optional<std::pair<uint64_t, Merge>> best;
    for (size_t k = 0; k + 1 < symbols.size(); ++k) {
      const uint64_t key = pair_key(symbols[k], symbols[k + 1]);
      const auto merge = vocabulary_.merges.find(key);
      if (merge != vocabulary_.merges.end() && (!best || merge->second.rank < best->second.rank)) {
        best.emplace(key, merge->second);
      }
    }
    return best;
  }

  // Every occurrence, left to right, without overlaps: "a a a" with (a, a) gives "aa a".
  static std::vector<int32_t> apply_merge(const std::vector<int32_t>& symbols, uint64_t key,
                                          int32_t merged_id) {
    std::vector<int32_t> merged;
    merged.reserve(symbols.size());
    for (size_t k = 0; k < symbols.size();) {
      if (k + 1 < symbols.size() && pair_key(symbols[k], symbols[k + 1]) == key) {
        merged.push_back(merged_id);
        k += 2;
      } else {
        merged.push_back(symbols[k++]);
      }
    }
    return merged;
  }

  std::string model_bytes_;
  Vocabulary vocabulary_;
  Pattern word_pattern_;
  Pattern whole_text_pattern_;
  Pattern final_sigma_pattern_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("clip_bpe: cannot read '" + path + "': " + std::strerror(errno));
  // A directory opens, then fails on the first read, with an exception.
  try {
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  } catch (const std::ios_base::failure& error) {
    throw std::runtime_error("clip_bpe: cannot read '" + path + "': " + error.what());
  }
}

}  // namespace

std::unique_ptr<Tokenizer> load_clip_bpe(const std::string& gz_bytes) {
  try {
    return std::make_unique<ClipBpeTokenizer>(gz_bytes);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(std::string("clip_bpe: ") + error.what());
  }
}

std::unique_ptr<Tokenizer> load_clip_bpe_file(const std::string& path) {
  const std::string bytes = read_file(path);
  try {
    return std::make_unique<ClipBpeTokenizer>(bytes);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error("clip_bpe: '" + path + "': " + error.what());
  }
}

}  // namespace mmtrain
