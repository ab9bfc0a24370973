#include "common/config_store.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "common/config_loader.h"
#include "common/status.h"

namespace secureos {

using google::protobuf::Message;

ConfigStore::ConfigStore(std::string path, std::string embedded_default, const Message& prototype,
                         Validator validator)
    : path_(std::move(path)),
      embedded_default_(std::move(embedded_default)),
      prototype_(prototype),
      validator_(std::move(validator)) {}

absl::StatusOr<std::unique_ptr<Message>> ConfigStore::ReadCandidate(const Message* running,
                                                                    std::string* source) const {
  std::unique_ptr<Message> next(prototype_.New());
  FieldLocations locations;
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0 && errno == ENOENT) {
    *source = kEmbedded;
    SECUREOS_RETURN_IF_ERROR(ParseConfig(kEmbedded, embedded_default_, next.get(), &locations));
  } else {
    *source = path_;
    SECUREOS_RETURN_IF_ERROR(LoadConfigFile(path_, next.get(), &locations));
  }
  FieldErrors errors;
  validator_(running, *next, &errors);
  SECUREOS_RETURN_IF_ERROR(errors.ToConfigStatus(*source, &locations));
  return next;
}

absl::StatusOr<std::string> ConfigStore::Load() {
  absl::MutexLock serial(&reload_mu_);
  std::string source;
  SECUREOS_ASSIGN_OR_RETURN(std::unique_ptr<Message> next, ReadCandidate(nullptr, &source));
  absl::MutexLock lock(&mu_);
  current_ = std::shared_ptr<const Message>(next.release());
  return source;
}

absl::StatusOr<std::string> ConfigStore::Reload() {
  absl::MutexLock serial(&reload_mu_);
  std::shared_ptr<const Message> running = current();
  std::string source;
  SECUREOS_ASSIGN_OR_RETURN(std::unique_ptr<Message> next, ReadCandidate(running.get(), &source));
  std::shared_ptr<const Message> applied(next.release());
  std::vector<Observer> observers;
  {
    absl::MutexLock lock(&mu_);
    current_ = applied;
    observers = observers_;
  }
  for (const Observer& observer : observers) observer(*applied);
  return source;
}

void ConfigStore::AddObserver(Observer observer) {
  absl::MutexLock lock(&mu_);
  observers_.push_back(std::move(observer));
}

std::shared_ptr<const Message> ConfigStore::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

}  // namespace secureos
