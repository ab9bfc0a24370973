// Human-readable, column-aligned tables for secctl's default output.
#ifndef SECUREOS_CLI_TABLE_H_
#define SECUREOS_CLI_TABLE_H_

#include <ostream>
#include <string>
#include <vector>

namespace secureos::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Columns padded to their widest cell, two spaces apart; the last column is not padded.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace secureos::cli

#endif  // SECUREOS_CLI_TABLE_H_
