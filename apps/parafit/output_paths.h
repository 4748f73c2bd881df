// Checks on a command's output files made before it reads or writes anything, so that a mistake
// in the command line costs neither the user's files nor a long run.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "parafit/communicator.h"

namespace parafit::cli {

// A file named on the command line: the flag and its value ("" when the flag was not given).
struct PathFlag {
  PathFlag(std::string flag_, std::string path_, const char* what_ = "output file", std::string may_replace_ = "")
      : flag(std::move(flag_)), path(std::move(path_)), what(what_), may_replace(std::move(may_replace_)) {}
  std::string flag;
  std::string path;
  const char* what;         // outputs: how "cannot write ..." names it
  std::string may_replace;  // outputs: the input flag this output may be ("--resume")
};

// Refuses, by UsageError naming both flags and the path, an output that is the same file as an
// input or as another output. Files are compared by device and inode; an output that does not
// exist yet by its directory's device and inode and its name. An output inside a .npy directory
// given as an input is refused when it would read as one of its columns. "-" (standard output)
// and "" are skipped. Then each output must be writable (io/atomic_file.h check_writable), or
// parafit::Error "<flag>: cannot write <what> '<path>': <reason>".
void check_output_paths(const std::vector<PathFlag>& inputs, const std::vector<PathFlag>& outputs);

// The same for a command every rank runs: rank 0, which writes the outputs, checks, and every rank
// throws alike (UsageError, or AgreedError for an unwritable output).
void check_output_paths(Communicator& comm, const std::vector<PathFlag>& inputs,
                        const std::vector<PathFlag>& outputs);

}  // namespace parafit::cli
