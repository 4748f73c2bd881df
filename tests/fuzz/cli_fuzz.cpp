// libFuzzer target: the command line itself. The input is split at NUL and newline bytes into
// arguments for `parafit fit` or `parafit train` (the first byte chooses), run in-process through
// run_main on a small fixed data file.
//
// The contract: any command line ends with an exit code (0, 1 or 2), never a crash, hang, leak or
// undefined behaviour, nor an "internal error" (an exception that is not a parafit::Error: a
// message the user cannot act on). Every run happens inside a scratch directory that is emptied after it (all
// but the data file), and an argument that is an absolute path or contains ".." is not run, so
// the files the fuzzer names (--json, --save, --checkpoint...) stay there. Numbers above 100 are
// not run either: `--epochs 1000000` is a long run, not a bug, and would read as a hang.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "run_main.h"

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxArguments = 24;
constexpr std::size_t kMaxArgument = 64;
constexpr double kMaxNumber = 100;

// 20 rows of y = 3 exp(-0.5 x) + noise, with a second input column.
constexpr const char* kData =
    "x,z,y\n0,1,3.02\n0.5,2,2.31\n1,1,1.84\n1.5,0,1.40\n2,3,1.12\n2.5,1,0.85\n3,2,0.67\n3.5,0,0.52\n"
    "4,1,0.41\n4.5,2,0.30\n5,1,0.26\n5.5,0,0.19\n6,3,0.15\n6.5,1,0.12\n7,2,0.09\n7.5,0,0.07\n8,1,0.06\n"
    "8.5,2,0.04\n9,1,0.03\n9.5,0,0.03\n";

struct Scratch {
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    dir = fs::path(tmp && *tmp ? tmp : "/tmp") / ("parafit-cli-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::current_path(dir);
    std::FILE* f = std::fopen("d.csv", "wb");
    if (f == nullptr || std::fputs(kData, f) < 0 || std::fclose(f) != 0) std::abort();
    // The program's messages would drown libFuzzer's; PARAFIT_FUZZ_VERBOSE=1 keeps them (to
    // see what a crashing input printed). Its stderr goes to a file next to the scratch
    // directory (out of the fuzzer's reach), read back after each run.
    const char* verbose = std::getenv("PARAFIT_FUZZ_VERBOSE");
    quiet = !(verbose && *verbose == '1');
    err_path = dir.string() + ".stderr";
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove(err_path, ec);
    fs::current_path(dir.parent_path(), ec);
    fs::remove_all(dir, ec);
  }
  // Removes what the last run wrote.
  void clean() const {
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().filename() != "d.csv") fs::remove_all(entry.path());
  }
  fs::path dir;
  std::string err_path;
  bool quiet = true;
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

// Whether an argument may be run: no way out of the scratch directory, no long runs.
bool allowed(const std::string& arg) {
  if (arg.size() > kMaxArgument) return false;
  if (arg.find("..") != std::string::npos) return false;
  const std::size_t eq = arg.find('=');
  const std::string value = eq == std::string::npos ? arg : arg.substr(eq + 1);
  if (!value.empty() && value[0] == '/') return false;
  // Every number in the value (a list like "mlp:500,500" or "1:100000" too).
  const char* p = value.c_str();
  while (*p != '\0') {
    char* end = nullptr;
    const double v = std::strtod(p, &end);
    if (end != p) {
      if (!(v <= kMaxNumber && v >= -kMaxNumber)) return false;  // NaN too
      p = end;
    } else {
      ++p;
    }
  }
  return true;
}

// Runs with stdout and stderr sent to /dev/null (unless verbose), restoring them after.
int run_quietly(std::vector<char*>& argv) {
  const bool quiet = scratch().quiet;
  int saved_out = -1, saved_err = -1;
  if (quiet) {
    std::fflush(stdout);
    std::fflush(stderr);
    saved_out = ::dup(1);
    saved_err = ::dup(2);
    const int null = ::open("/dev/null", O_WRONLY);
    const int err = ::open(scratch().err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (null < 0 || err < 0) std::abort();
    ::dup2(null, 1);
    ::dup2(err, 2);
    ::close(null);
    ::close(err);
  }
  const int rc = parafit::cli::run_main(static_cast<int>(argv.size()) - 1, argv.data());
  if (quiet) {
    std::fflush(stdout);
    std::fflush(stderr);
    ::dup2(saved_out, 1);
    ::dup2(saved_err, 2);
    ::close(saved_out);
    ::close(saved_err);
  }
  return rc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<std::string> args = {"parafit", (data[0] & 1) != 0 ? "train" : "fit", "--data", "d.csv"};
  std::string token;
  for (std::size_t i = 1; i <= size; ++i) {
    if (i == size || data[i] == '\0' || data[i] == '\n') {
      if (!allowed(token)) return -1;
      if (!token.empty()) args.push_back(token);
      if (args.size() > kMaxArguments) return -1;
      token.clear();
    } else {
      token.push_back(static_cast<char>(data[i]));
    }
  }
  // Hundreds of threads per run would only measure thread start-up.
  bool threads = false;
  for (const std::string& a : args) threads = threads || a.rfind("--threads", 0) == 0;
  if (!threads) args.push_back("--threads=2");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  Scratch& s = scratch();
  const int rc = run_quietly(argv);
  s.clean();
  if (rc < 0 || rc > 2) std::abort();  // an exit code outside the documented ones
  if (s.quiet) {
    std::ifstream in(s.err_path);
    const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // At a line start only: the fuzzer soon learns to put the words into a formula it is echoed.
    const std::string internal = "parafit: internal error:";
    if (err.rfind(internal, 0) == 0 || err.find("\n" + internal) != std::string::npos) {
      std::fprintf(stderr, "cli_fuzz: the program reported an internal error:\n%s\n", err.c_str());
      std::abort();
    }
  }
  return 0;
}
