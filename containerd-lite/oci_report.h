// What translating a bundle's config.json finds: errors, which refuse the bundle, and
// notes, which accept a field that sandboxd can only approximate. Both name the field with
// OCI's spelling ("process.args[0]", "mounts[3].options[1]").
//
// One OciReport is made per LoadBundle or ToSandboxSpec (oci_bundle.h) and passed by
// pointer to each piece of the work, which adds what it finds in the order it meets it;
// the caller then turns it into the result. Nothing else is shared between the pieces.
#ifndef SECUREOS_CONTAINERD_LITE_OCI_REPORT_H_
#define SECUREOS_CONTAINERD_LITE_OCI_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/field_errors.h"

namespace secureos::ctr {

// The file that errors and notes name.
inline constexpr char kConfigName[] = "config.json";

class OciReport {
 public:
  // `field` is refused: "config.json: <field>: <message>" in ToStatus.
  void Error(absl::string_view field, absl::string_view message) { errors_.Add(field, message); }

  // `field` is accepted with an approximation: the note "config.json: <field>: <text>".
  void Note(absl::string_view field, absl::string_view text);

  // The errors, for helpers that add to a FieldErrors (NormalizeAbsolutePath, CheckRlimit).
  FieldErrors* errors() { return &errors_; }

  // The notes so far, in the order added.
  const std::vector<std::string>& notes() const { return notes_; }
  std::vector<std::string> TakeNotes() { return std::exchange(notes_, {}); }

  // OK without errors; otherwise INVALID_ARGUMENT with every error in the order added:
  // "config.json: f1: m1; config.json: f2: m2".
  absl::Status ToStatus() const;

 private:
  FieldErrors errors_;
  std::vector<std::string> notes_;
};

}  // namespace secureos::ctr

#endif  // SECUREOS_CONTAINERD_LITE_OCI_REPORT_H_
