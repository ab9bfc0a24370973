#include "monitord/audit/audit_chain.h"

#include <openssl/evp.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fd.h"

namespace secureos::monitord {
namespace {

constexpr size_t kMaxAuditFileBytes = size_t{1} << 32;

bool IsHex64(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
  }
  return true;
}

std::string Base(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

std::string Sha256Hex(absl::string_view bytes) {
  // The digest fetched once and a context per thread, reused: OpenSSL 3's one-shot
  // EVP_Digest fetches the algorithm and allocates a context on every call, which cost more
  // than the hash of a record.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (sha256 == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) {
    return std::string(64, '?');  // libcrypto failed: never equal to a real hash.
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * len, '0');
  for (unsigned int i = 0; i < len; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

std::string FormatRecord(uint64_t seq, absl::Time time, absl::string_view type, absl::string_view prev,
                         absl::string_view data_json) {
  // The seconds are formatted once per second (absl::FormatTime costs more than the hash).
  thread_local int64_t cached_second = -1;
  thread_local std::string cached_text;
  const int64_t micros = absl::ToUnixMicros(time);
  const int64_t second = micros >= 0 ? micros / 1000000 : (micros - 999999) / 1000000;
  if (second != cached_second) {
    cached_second = second;
    cached_text = absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone());
  }
  std::string out;
  out.reserve(data_json.size() + type.size() + 160);
  absl::StrAppend(&out, "{\"seq\":", seq, ",\"time\":\"", cached_text, ".");
  char frac[6];  // Microseconds, zero-padded (StrAppendFormat cost a tenth of the record).
  for (int i = 5, v = static_cast<int>(micros - second * 1000000); i >= 0; --i, v /= 10) frac[i] = static_cast<char>('0' + v % 10);
  out.append(frac, sizeof(frac));
  absl::StrAppend(&out, "Z\",\"type\":\"", type, "\",\"prev\":\"", prev, "\",\"data\":", data_json, "}");
  return out;
}

absl::StatusOr<RecordHeader> ParseRecordHeader(absl::string_view line) {
  RecordHeader h;
  absl::string_view rest = line;
  if (!absl::ConsumePrefix(&rest, "{\"seq\":")) return absl::InvalidArgumentError("not a record: no seq");
  const size_t comma = rest.find(',');
  if (comma == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(0, comma), &h.seq) || h.seq == 0) {
    return absl::InvalidArgumentError("not a record: bad seq");
  }
  const size_t prev = rest.find(",\"prev\":\"");
  if (prev == absl::string_view::npos) return absl::InvalidArgumentError("not a record: no prev");
  const size_t type = rest.find(",\"type\":\"");
  if (type == absl::string_view::npos || type + 10 > prev) return absl::InvalidArgumentError("not a record: no type");
  h.type = std::string(rest.substr(type + 9, prev - type - 10));
  h.prev = std::string(rest.substr(prev + 9, 64));
  const size_t data = prev + 9 + 64 + 9;  // After `","data":`, at its `{`.
  if (!IsHex64(h.prev) || rest.substr(data - 9, 10) != "\",\"data\":{" || !absl::EndsWith(rest, "}")) {
    return absl::InvalidArgumentError("not a record: bad prev or data");
  }
  h.data = rest.substr(data, rest.size() - data - 1);
  return h;
}

std::string FormatHead(uint64_t seq, absl::string_view hash) {
  return absl::StrFormat("%020d %s\n", seq, hash);  // Fixed width: rewritten in place.
}

absl::StatusOr<std::pair<uint64_t, std::string>> ParseHead(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), ' ');
  uint64_t seq;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &seq) || !IsHex64(parts[1])) {
    return absl::InvalidArgumentError("the head file is not \"SEQ SHA256\"");
  }
  return std::make_pair(seq, std::string(parts[1]));
}

VerifyReport VerifyChain(const std::vector<std::string>& files, absl::string_view head_text) {
  VerifyReport r;
  std::string last_hash(kGenesisHash);
  uint64_t last_seq = 0;
  for (const std::string& path : files) {
    ++r.files;
    absl::StatusOr<std::string> text = ReadFile(path, kMaxAuditFileBytes);
    if (!text.ok()) {
      r.problems.push_back(absl::StrCat(Base(path), ": ", text.status().message()));
      continue;
    }
    if (!text->empty() && text->back() != '\n') {
      r.problems.push_back(absl::StrCat(Base(path), ": the last record is torn (no newline at the end)"));
    }
    std::vector<absl::string_view> lines = absl::StrSplit(*text, '\n', absl::SkipEmpty());
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string at = absl::StrCat(Base(path), ":", i + 1, ": ");
      absl::StatusOr<RecordHeader> h = ParseRecordHeader(lines[i]);
      if (!h.ok()) {
        r.problems.push_back(at + std::string(h.status().message()));
      } else {
        if (h->seq != last_seq + 1) {
          r.problems.push_back(absl::StrCat(at, "record ", h->seq, " where ", last_seq + 1,
                                            " was expected (records removed or reordered)"));
        }
        if (h->prev != last_hash) {
          r.problems.push_back(at + "prev does not match the record before it (edited, removed or reordered)");
        }
        last_seq = h->seq;
      }
      last_hash = Sha256Hex(lines[i]);
      ++r.records;
    }
  }
  if (head_text.empty()) return r;
  absl::StatusOr<std::pair<uint64_t, std::string>> head = ParseHead(head_text);
  if (!head.ok()) {
    r.problems.push_back(std::string(head.status().message()));
  } else if (last_seq < head->first) {
    r.problems.push_back(absl::StrCat("truncated: the head says record ", head->first, " was written, the log ends at ",
                                      last_seq));
  } else if (last_seq == head->first && last_hash != head->second) {
    r.problems.push_back(absl::StrCat("record ", last_seq, " differs from the one the head recorded (edited)"));
  }
  return r;
}

}  // namespace secureos::monitord
