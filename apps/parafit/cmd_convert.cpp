// parafit convert — a CSV file to a directory of .npy files, one per column (docs/data-formats.md).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "cli_common.h"
#include "commands.h"
#include "output_paths.h"
#include "parafit/csv.h"
#include "parafit/error.h"
#include "parafit/npy.h"

namespace parafit::cli {
namespace {

namespace fs = std::filesystem;

class ConvertCommand final : public Command {
 public:
  explicit ConvertCommand(CLI::App& parent) {
    app = parent.add_subcommand(
        "convert", "Convert a CSV file to a directory of .npy files (one per column), which loads "
                   "many times faster");
    app->add_option("--data", data_, "CSV file with a header row")->required();
    app->add_option("--out", out_, "Directory to write <column>.npy files into (created if needed)")
        ->required();
    add_list_option(*app, "--columns", columns_, "Columns to convert, e.g. x,y (default: all)");
    app->add_option("--delimiter", delimiter_, "Field delimiter (default: detect , tab ;)");
    app->add_flag("--drop-missing", drop_missing_,
                  "Drop rows with empty, NaN or Inf fields instead of failing");
    app->add_flag("--force", force_,
                  "Write into a directory that is not empty, replacing the .npy files in it");
  }

  int run() override {
    CsvOptions csv;
    csv.drop_missing = drop_missing_;
    csv.columns = split_list(columns_);
    csv.delimiter = parse_delimiter(delimiter_);
    // Everything that can be checked before the data is read: the names, then the directory.
    const std::vector<std::string> names =
        csv.columns.empty() ? read_csv_header(data_, csv) : csv.columns;
    for (const auto& name : names) {
      const std::string problem = npy_column_name_problem(name);
      if (!problem.empty())
        throw Error(fmt::format("{}: column '{}' cannot be a file name '<column>.npy': {}", data_,
                                name, problem));
    }
    check_output_directory();
    std::error_code ec;
    if (fs::is_directory(out_, ec)) {  // a file it writes must not be the CSV file it reads
      std::vector<PathFlag> outputs;
      for (const auto& name : names)
        outputs.push_back({"--out", (fs::path(out_) / (name + ".npy")).string(), ".npy file"});
      check_output_paths({{"--data", data_}}, outputs);
    }

    const auto t0 = std::chrono::steady_clock::now();
    CsvReport report;
    const Dataset data = read_csv(data_, csv, &report);
    if (report.rows_dropped > 0)
      fmt::print(stderr, "parafit: dropped {} row(s) with empty, NaN or Inf fields (--drop-missing)\n",
                 report.rows_dropped);

    // The columns are written into a directory of their own next to --out and moved in only when
    // all are written: a failure (a full disk) leaves --out as it was, never a part of the columns.
    const Staging staging(out_);
    std::size_t bytes = 0;
    for (std::size_t k = 0; k < data.num_columns(); ++k) {
      const std::string path = (staging.dir / (data.names()[k] + ".npy")).string();
      try {
        write_npy(path, data.column(k));
      } catch (const Error& e) {  // name the file where the user will look for it, not the staging one
        std::string message = e.marked();
        const std::size_t at = message.find(staging.dir.string());
        if (at != std::string::npos) message.replace(at, staging.dir.string().size(), staging.shown_as);
        throw Error(message);
      }
      std::error_code ec;
      const auto size = fs::file_size(path, ec);
      if (!ec) bytes += static_cast<std::size_t>(size);
    }
    publish(staging, data.names());
    const auto t1 = std::chrono::steady_clock::now();
    fmt::print("converted {} rows x {} columns ({}) from {} to {}/: {:.1f} MB of .npy\n", data.rows(),
               data.num_columns(), fmt::join(data.names(), ", "), data_, out_,
               static_cast<double>(bytes) / 1e6);
    if (stderr_is_terminal())
      fmt::print(stderr, "parafit: read and wrote {:.1f} MB of CSV in {:.3f} s\n",
                 static_cast<double>(report.bytes) / 1e6,
                 std::chrono::duration<double>(t1 - t0).count());
    return 0;
  }

 private:
  // --out must be a directory that does not exist yet or is empty, unless --force.
  void check_output_directory() const {
    std::error_code ec;
    const fs::file_status status = fs::status(out_, ec);
    if (!fs::exists(status)) return;
    if (!fs::is_directory(status))
      throw Error(fmt::format("--out '{}' exists and is not a directory", out_));
    if (!force_ && !fs::is_empty(out_, ec))
      throw Error(fmt::format("--out '{}' is a directory that is not empty; use --force to write "
                              "into it (its .npy files are replaced)",
                              out_));
  }

  // A new directory for the columns, on the file system of --out (renames do not cross file
  // systems): inside --out when it exists (a hidden name that never reads as a column), otherwise
  // beside it. Removed unless publish() moved it into place.
  struct Staging {
    explicit Staging(const std::string& out) {
      std::error_code ec;
      fs::path target(out);
      if (target.filename().empty()) target = target.parent_path();  // "DIR/"
      inside = fs::is_directory(target, ec);
      shown_as = target.string();
      dir = inside ? target / fmt::format(".parafit-convert.tmp.{}", ::getpid())
                   : fs::path(fmt::format("{}.tmp.{}", target.string(), ::getpid()));
      if (!inside && target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
      fs::remove_all(dir, ec);
      if (!fs::create_directory(dir, ec) || ec)
        throw Error(fmt::format("cannot create directory '{}': {}", dir.string(),
                                ec ? ec.message() : "it exists"));
    }
    ~Staging() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
    fs::path dir;
    std::string shown_as;  // what `dir` stands for in messages: --out
    bool inside = false;
  };

  // Puts the written columns at --out. A new directory is renamed into place whole. Into an
  // existing one each column is renamed, and then (--force) the .npy files not among them are
  // removed, so that the directory ends up holding exactly the converted columns (a column left
  // from an earlier conversion would read as an extra one); other files are left alone. Renames
  // need no space, so a full disk cannot stop this part-way.
  void publish(const Staging& staging, const std::vector<std::string>& names) const {
    std::error_code ec;
    if (!staging.inside) {
      fs::rename(staging.dir, out_, ec);
      if (ec) throw Error(fmt::format("cannot create directory '{}': {}", out_, ec.message()));
      return;
    }
    for (const auto& name : names) {
      fs::rename(staging.dir / (name + ".npy"), fs::path(out_) / (name + ".npy"), ec);
      if (ec) throw Error(fmt::format("cannot write '{}/{}.npy': {}", out_, name, ec.message()));
    }
    for (const auto& entry : fs::directory_iterator(out_, ec)) {
      const std::string file = entry.path().filename().string();
      if (file.size() < 4 || file.compare(file.size() - 4, 4, ".npy") != 0 || !entry.is_regular_file(ec)) continue;
      if (std::find(names.begin(), names.end(), file.substr(0, file.size() - 4)) != names.end()) continue;
      if (!fs::remove(entry.path(), ec) || ec)
        throw Error(fmt::format("cannot remove '{}': {}", entry.path().string(), ec.message()));
    }
    if (ec) throw Error(fmt::format("cannot read directory '{}': {}", out_, ec.message()));
  }

  std::string data_, out_, delimiter_;
  std::vector<std::string> columns_;
  bool drop_missing_ = false;
  bool force_ = false;
};

}  // namespace

std::unique_ptr<Command> add_convert_command(CLI::App& parent) {
  return std::make_unique<ConvertCommand>(parent);
}

}  // namespace parafit::cli
