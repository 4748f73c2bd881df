#include "output_paths.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "cli_common.h"
#include "io/atomic_file.h"
#include "parafit/distributed.h"
#include "parafit/error.h"

namespace parafit::cli {
namespace {

namespace fs = std::filesystem;

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

std::optional<FileId> file_id(const std::string& path, bool* is_directory = nullptr) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  if (is_directory != nullptr) *is_directory = S_ISDIR(st.st_mode);
  return FileId{st.st_dev, st.st_ino};
}

// Where an output will be: the file itself if it exists, and always its directory and name (so
// that "out.json" and "./out.json", neither yet written, are one file).
struct OutputId {
  std::optional<FileId> file;
  std::optional<FileId> directory;
  std::string name;
};

OutputId output_id(const std::string& path) {
  const fs::path p(path);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  return {file_id(path), file_id(dir.string()), p.filename().string()};
}

bool same_file(const OutputId& a, const OutputId& b) {
  if (a.file || b.file) return a.file && b.file && *a.file == *b.file;
  return a.directory && b.directory && *a.directory == *b.directory && a.name == b.name;
}

bool ends_with_npy(const std::string& name) { return name.size() > 4 && name.ends_with(".npy"); }

bool skipped(const PathFlag& p) { return p.path.empty() || p.path == "-"; }

}  // namespace

void check_output_paths(const std::vector<PathFlag>& inputs, const std::vector<PathFlag>& outputs) {
  std::vector<OutputId> ids;
  for (const PathFlag& out : outputs) ids.push_back(skipped(out) ? OutputId{} : output_id(out.path));
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const PathFlag& out = outputs[i];
    if (skipped(out)) continue;
    for (const PathFlag& in : inputs) {
      if (in.path.empty() || in.flag == out.may_replace) continue;
      bool directory = false;
      const std::optional<FileId> id = file_id(in.path, &directory);
      if (!id) continue;
      if (ids[i].file == id)
        throw UsageError(fmt::format("{} '{}' is the same file as {} '{}': it would be overwritten; write "
                                     "the output to another file",
                                     out.flag, out.path, in.flag, in.path));
      if (directory && ids[i].directory == id && ends_with_npy(ids[i].name))
        throw UsageError(fmt::format("{} '{}' is inside the .npy directory {} '{}', where it would read as "
                                     "a column; write the output to another directory",
                                     out.flag, out.path, in.flag, in.path));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (!skipped(outputs[j]) && same_file(ids[i], ids[j]))
        throw UsageError(fmt::format("{} '{}' and {} '{}' are the same file: one would overwrite the other; "
                                     "give each output its own file",
                                     outputs[j].flag, outputs[j].path, out.flag, out.path));
    }
  }
  for (const PathFlag& out : outputs) {
    if (skipped(out)) continue;
    try {
      detail::check_writable(out.path, out.what);
    } catch (const Error& e) {
      throw Error(fmt::format("{}: {}", out.flag, e.marked()));
    }
  }
}

void check_output_paths(Communicator& comm, const std::vector<PathFlag>& inputs,
                        const std::vector<PathFlag>& outputs) {
  std::int64_t usage = 0;
  std::string usage_message, error;
  if (comm.rank() == 0) {
    try {
      check_output_paths(inputs, outputs);
    } catch (const UsageError& e) {
      usage = 1;
      usage_message = e.what();
    } catch (const Error& e) {
      error = e.marked();
    }
  }
  if (comm.size() > 1) comm.broadcast(std::span(&usage, 1), 0);
  if (usage != 0) throw UsageError(usage_message);  // rank 0 prints it
  agree_or_throw(comm, error);
}

}  // namespace parafit::cli
