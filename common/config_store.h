// The configuration a daemon runs with, and its reload.
//
// Contract: the configuration in force is always one that parsed and validated in full.
// Load() at start fails the daemon on an invalid file; Reload() on an invalid file returns
// the error (file, line, field) and keeps the old configuration. When the file does not
// exist, the daemon's embedded default is used, so a bare `--root` works out of the box.
#ifndef SECUREOS_COMMON_CONFIG_STORE_H_
#define SECUREOS_COMMON_CONFIG_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/field_errors.h"
#include "google/protobuf/message.h"

namespace secureos {

class ConfigStore {
 public:
  // Checks a candidate; `running` is null at start and the config in force on reload.
  using Validator = std::function<void(const google::protobuf::Message* running,
                                       const google::protobuf::Message& next, FieldErrors*)>;
  // Called after a new configuration is in force (not for the initial Load).
  using Observer = std::function<void(const google::protobuf::Message& applied)>;

  static constexpr char kEmbedded[] = "<embedded default>";

  // `prototype` gives the message type; `embedded_default` is its text-format default.
  ConfigStore(std::string path, std::string embedded_default,
              const google::protobuf::Message& prototype, Validator validator);

  // Initial load; returns the source read (the path or kEmbedded).
  absl::StatusOr<std::string> Load();
  // Re-reads; on success the new config is in force and the observers have run, in the
  // order they were added.
  absl::StatusOr<std::string> Reload();
  void AddObserver(Observer observer);

  std::shared_ptr<const google::protobuf::Message> current() const;
  template <typename T>
  std::shared_ptr<const T> Get() const {
    return std::static_pointer_cast<const T>(current());
  }
  const std::string& path() const { return path_; }

 private:
  // Parses and validates without applying.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> ReadCandidate(
      const google::protobuf::Message* running, std::string* source) const;

  const std::string path_;
  const std::string embedded_default_;
  const google::protobuf::Message& prototype_;
  const Validator validator_;
  absl::Mutex reload_mu_;  // Serializes Load/Reload so that two reloads cannot interleave.
  mutable absl::Mutex mu_;
  std::shared_ptr<const google::protobuf::Message> current_ ABSL_GUARDED_BY(mu_);
  std::vector<Observer> observers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace secureos

#endif  // SECUREOS_COMMON_CONFIG_STORE_H_
